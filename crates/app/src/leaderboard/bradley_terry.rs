//! The Bradley–Terry model fitted on pairwise outcomes: each model `i` has a
//! strength `p_i`, and `i` beats `j` with probability `p_i / (p_i + p_j)`. The fit
//! is the maximum of the likelihood of every outcome at once (so the order the
//! votes came in does not matter, unlike online Elo), by Hunter's (2004) MM
//! iteration; a tie counts as half a win for each side.
//!
//! A model that never lost (or never won) has no finite maximum. Each model
//! therefore also plays `prior_games` virtual games against a fixed reference of
//! strength 1, half won and half lost: a mild pull towards the middle that keeps
//! every rating and interval finite, and vanishes as real outcomes accumulate.
//! The intervals come from the observed information (the Hessian of the
//! log-likelihood in `ln p`), inverted with `nalgebra`.

use nalgebra::DMatrix;

/// Pairwise outcomes among `n` models: `wins[i][j]` is how often `i` beat `j`
/// (ties added as half a win to both).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcomes {
    wins: Vec<Vec<f64>>,
}

impl Outcomes {
    pub fn new(n: usize) -> Outcomes {
        Outcomes {
            wins: vec![vec![0.0; n]; n],
        }
    }

    pub fn len(&self) -> usize {
        self.wins.len()
    }

    pub fn win(&mut self, winner: usize, loser: usize) {
        self.wins[winner][loser] += 1.0;
    }

    pub fn tie(&mut self, a: usize, b: usize) {
        self.wins[a][b] += 0.5;
        self.wins[b][a] += 0.5;
    }

    /// Wins of `i` over `j`, ties counted half.
    pub fn wins(&self, i: usize, j: usize) -> f64 {
        self.wins[i][j]
    }
}

/// One model's fitted strength.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// `ln p`, centred so the models' mean is 0.
    pub theta: f64,
    /// Standard error of `theta`.
    pub se: f64,
}

/// Fit the model. `prior_games` is the number of virtual games (half won) each
/// model plays against the reference; with 0, every pair of models must be
/// connected by wins both ways for the maximum to exist (and `se` is NaN).
pub fn fit(outcomes: &Outcomes, prior_games: f64) -> Vec<Fit> {
    let n = outcomes.len();
    if n == 0 {
        return Vec::new();
    }
    let games = |i: usize, j: usize| outcomes.wins(i, j) + outcomes.wins(j, i);
    let won: Vec<f64> = (0..n)
        .map(|i| (0..n).map(|j| outcomes.wins(i, j)).sum::<f64>() + prior_games / 2.0)
        .collect();
    let mut p = vec![1.0_f64; n];
    for _ in 0..10_000 {
        let mut change = 0.0_f64;
        for i in 0..n {
            let denominator: f64 = (0..n)
                .filter(|&j| j != i)
                .map(|j| games(i, j) / (p[i] + p[j]))
                .sum::<f64>()
                + prior_games / (p[i] + 1.0);
            if won[i] <= 0.0 || denominator <= 0.0 {
                continue;
            }
            let next = won[i] / denominator;
            change = change.max((next.ln() - p[i].ln()).abs());
            p[i] = next;
        }
        if prior_games == 0.0 {
            // Without the reference the scale floats: pin the geometric mean.
            let mean = p.iter().map(|x| x.ln()).sum::<f64>() / n as f64;
            p.iter_mut().for_each(|x| *x /= mean.exp());
        }
        if change < 1e-10 {
            break;
        }
    }
    let theta: Vec<f64> = p.iter().map(|x| x.ln()).collect();
    let mean = theta.iter().sum::<f64>() / n as f64;
    let se = standard_errors(outcomes, &p, prior_games);
    theta
        .iter()
        .zip(se)
        .map(|(t, se)| Fit {
            theta: t - mean,
            se,
        })
        .collect()
}

/// The standard error of each centred `theta` (`ln p_i` less the models' mean):
/// the square roots of the diagonal of `P C P`, where `C` is the inverse of the
/// observed information and `P` removes the mean. (Each model's distance to the
/// virtual reference stays uncertain however many games are played; its
/// distance to the other models is what the games measure.)
fn standard_errors(outcomes: &Outcomes, p: &[f64], prior_games: f64) -> Vec<f64> {
    let n = p.len();
    let mut info = DMatrix::<f64>::zeros(n, n);
    for i in 0..n {
        for j in 0..n {
            if i == j {
                continue;
            }
            let games = outcomes.wins(i, j) + outcomes.wins(j, i);
            let w = games * p[i] * p[j] / (p[i] + p[j]).powi(2);
            info[(i, j)] -= w;
            info[(i, i)] += w;
        }
        info[(i, i)] += prior_games * p[i] / (p[i] + 1.0).powi(2);
    }
    let Some(cov) = info.try_inverse() else {
        return vec![f64::NAN; n];
    };
    let centre =
        DMatrix::<f64>::identity(n, n) - DMatrix::<f64>::from_element(n, n, 1.0 / n as f64);
    let centred = &centre * cov * &centre;
    (0..n).map(|i| centred[(i, i)].max(0.0).sqrt()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn two_models_three_wins_to_one_is_odds_of_three() {
        // By hand: the maximum has p_a / p_b = 3 / 1, so theta = ±ln(3)/2.
        let mut o = Outcomes::new(2);
        for _ in 0..3 {
            o.win(0, 1);
        }
        o.win(1, 0);
        let f = fit(&o, 0.0);
        assert!(close(f[0].theta - f[1].theta, 3f64.ln()), "{f:?}");
        assert!(close(f[0].theta, 3f64.ln() / 2.0), "{f:?}");
    }

    #[test]
    fn ties_count_half_a_win() {
        // a beat b once and they tied twice: a has 2 "wins", b has 1, so odds 2.
        let mut o = Outcomes::new(2);
        o.win(0, 1);
        o.tie(0, 1);
        o.tie(0, 1);
        let f = fit(&o, 0.0);
        assert!(close(f[0].theta - f[1].theta, 2f64.ln()), "{f:?}");
    }

    #[test]
    fn a_cycle_is_a_draw() {
        let mut o = Outcomes::new(3);
        o.win(0, 1);
        o.win(1, 2);
        o.win(2, 0);
        for f in fit(&o, 0.0) {
            assert!(close(f.theta, 0.0), "{f:?}");
        }
    }

    #[test]
    fn the_fit_solves_the_likelihood_equations() {
        // At the maximum, each model's wins equal its expected wins:
        // sum_j w_ij = sum_j n_ij p_i / (p_i + p_j).
        let mut o = Outcomes::new(4);
        let games = [
            (0, 1, 5),
            (1, 0, 2),
            (1, 2, 4),
            (2, 1, 3),
            (2, 3, 6),
            (3, 2, 1),
            (0, 3, 2),
            (3, 0, 2),
        ];
        for (w, l, k) in games {
            for _ in 0..k {
                o.win(w, l);
            }
        }
        o.tie(0, 2);
        let f = fit(&o, 0.0);
        let p: Vec<f64> = f.iter().map(|f| f.theta.exp()).collect();
        for i in 0..4 {
            let won: f64 = (0..4).map(|j| o.wins(i, j)).sum();
            let expected: f64 = (0..4)
                .filter(|&j| j != i)
                .map(|j| (o.wins(i, j) + o.wins(j, i)) * p[i] / (p[i] + p[j]))
                .sum();
            assert!(
                (won - expected).abs() < 1e-6,
                "model {i}: {won} vs {expected}"
            );
        }
        assert!(f[0].theta > f[1].theta && f[2].theta > f[3].theta, "{f:?}");
    }

    #[test]
    fn a_model_that_never_lost_stays_finite() {
        let mut o = Outcomes::new(3);
        for _ in 0..20 {
            o.win(0, 1);
            o.win(0, 2);
        }
        o.win(1, 2);
        let f = fit(&o, 1.0);
        for x in &f {
            assert!(
                x.theta.is_finite() && x.se.is_finite() && x.se > 0.0,
                "{f:?}"
            );
        }
        assert!(f[0].theta > f[1].theta && f[1].theta > f[2].theta, "{f:?}");
    }

    #[test]
    fn more_games_narrow_the_interval() {
        let few = {
            let mut o = Outcomes::new(2);
            o.win(0, 1);
            o.win(1, 0);
            fit(&o, 1.0)
        };
        let many = {
            let mut o = Outcomes::new(2);
            for _ in 0..50 {
                o.win(0, 1);
                o.win(1, 0);
            }
            fit(&o, 1.0)
        };
        assert!(many[0].se < few[0].se / 3.0, "{few:?} {many:?}");
        // By hand, with p = 1: info = [[a + c, -a], [-a, a + c]], a = games/4,
        // c = 1/4 from the prior. Var(theta_0 - theta_1) = 2 / (2a + c), and the
        // centred theta_0 is half that difference.
        let a: f64 = 100.0 / 4.0;
        let c: f64 = 0.25;
        let var = 2.0 / (2.0 * a + c) / 4.0;
        assert!(close(many[0].se, var.sqrt()), "{many:?} vs {}", var.sqrt());
    }

    #[test]
    fn no_models_no_fit() {
        assert!(fit(&Outcomes::new(0), 1.0).is_empty());
    }
}
