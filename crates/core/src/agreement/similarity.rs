//! Pairwise similarity of free-text answers, so an answer unlike the others
//! stands out.
//!
//! The measure is `strsim`'s Sørensen–Dice coefficient over character bigrams
//! (counted with multiplicity), on the text's letters and digits, lowercased
//! (spaces and punctuation dropped, as Dice drops whitespace itself). Why this one: `strsim` is the string-metric crate the Rust ecosystem
//! already depends on (clap uses it, so it adds nothing to the build), and of
//! its metrics Dice is the one that is linear in the texts' length (a bigram
//! count each) and insensitive to where a passage sits in the answer; the
//! edit-distance metrics are quadratic (25 million steps for two 5 KB
//! answers) and punish a reordered answer as a different one. Two unrelated
//! texts of one language still share many bigrams, so the values are best read
//! against each other (the outlier is the one well below the rest), not as an
//! absolute.
//!
//! `strsim` 0.11 divides by the texts' lengths in bytes where it counts
//! bigrams of characters (its open issue #79), which lowers the score of any
//! text that is not ASCII; [`dice`] scales its result back to character counts.

use serde::{Deserialize, Serialize};

/// Below the median of the answers' mean similarities by more than this, an
/// answer is an outlier.
pub const OUTLIER_MARGIN: f64 = 0.1;

/// The answers' pairwise similarity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Similarity {
    /// The answers compared: positions in `model_results` of the models that
    /// answered.
    pub results: Vec<usize>,
    /// `matrix[i][j]`: the similarity of answers `results[i]` and `results[j]`,
    /// 0 to 1 (three decimals), symmetric, 1 on the diagonal.
    pub matrix: Vec<Vec<f64>>,
    /// Each answer's mean similarity to the others, in the order of `results`.
    pub mean: Vec<f64>,
    /// Answers whose mean is more than 0.1 below the median of the means
    /// (positions in `model_results`); only with three answers or more.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outliers: Vec<usize>,
}

/// The similarity of `answers`: (position in `model_results`, text).
pub fn similarity(answers: &[(usize, &str)]) -> Similarity {
    let texts: Vec<String> = answers.iter().map(|(_, t)| normalise(t)).collect();
    let n = texts.len();
    let mut matrix = vec![vec![1.0; n]; n];
    for i in 0..n {
        for j in i + 1..n {
            let s = round(dice(&texts[i], &texts[j]));
            matrix[i][j] = s;
            matrix[j][i] = s;
        }
    }
    let mean: Vec<f64> = (0..n)
        .map(|i| {
            if n < 2 {
                return 1.0;
            }
            let others: f64 = (0..n).filter(|&j| j != i).map(|j| matrix[i][j]).sum();
            round(others / (n - 1) as f64)
        })
        .collect();
    let outliers = if n >= 3 {
        let median = median(&mean);
        (0..n)
            .filter(|&i| mean[i] < median - OUTLIER_MARGIN)
            .map(|i| answers[i].0)
            .collect()
    } else {
        Vec::new()
    };
    Similarity {
        results: answers.iter().map(|(at, _)| *at).collect(),
        matrix,
        mean,
        outliers,
    }
}

/// The letters and digits of `text`, lowercased.
fn normalise(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// `strsim::sorensen_dice` over two normalised texts (no whitespace), with its
/// denominator in characters rather than bytes: it returns
/// `2·shared / (bytes_a + bytes_b − 2)`, rescaled here to
/// `2·shared / (chars_a + chars_b − 2)`, the coefficient's definition.
pub fn dice(a: &str, b: &str) -> f64 {
    let raw = strsim::sorensen_dice(a, b);
    let (bytes, chars) = (a.len() + b.len(), a.chars().count() + b.chars().count());
    if raw == 0.0 || raw == 1.0 || bytes == chars || chars <= 2 {
        return raw;
    }
    (raw * (bytes - 2) as f64 / (chars - 2) as f64).min(1.0)
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(texts: &[&str]) -> Similarity {
        let answers: Vec<(usize, &str)> = texts.iter().copied().enumerate().collect();
        similarity(&answers)
    }

    #[test]
    fn identical_up_to_case_and_punctuation_is_one() {
        let s = of(&["The capital is Paris.", "the capital is, PARIS!"]);
        assert_eq!(s.matrix, vec![vec![1.0, 1.0], vec![1.0, 1.0]]);
        assert_eq!(s.mean, vec![1.0, 1.0]);
        assert!(s.outliers.is_empty(), "two answers have no outlier");
    }

    #[test]
    fn symmetric_in_range_and_the_odd_one_out_stands_out() {
        let s = of(&[
            "Paris is the capital of France, on the Seine.",
            "The capital of France is Paris, which lies on the Seine.",
            "France's capital is Paris, a city on the river Seine.",
            "Quantum chromodynamics describes the strong interaction of quarks.",
        ]);
        for i in 0..4 {
            assert_eq!(s.matrix[i][i], 1.0);
            for j in 0..4 {
                assert_eq!(s.matrix[i][j], s.matrix[j][i]);
                assert!((0.0..=1.0).contains(&s.matrix[i][j]));
            }
        }
        assert!(s.mean[3] < s.mean[0], "{s:?}");
        assert_eq!(s.outliers, vec![3], "{s:?}");
    }

    #[test]
    fn positions_are_kept_and_empty_answers_do_not_panic() {
        let s = similarity(&[(1, "yes"), (4, ""), (6, "yes")]);
        assert_eq!(s.results, vec![1, 4, 6]);
        assert_eq!(s.matrix[0][2], 1.0);
        assert_eq!(s.matrix[0][1], 0.0);
        assert_eq!(of(&["only"]).mean, vec![1.0]);
        assert!(of(&[]).matrix.is_empty());
    }

    #[test]
    fn normalises() {
        assert_eq!(normalise("  Héllo,  WORLD!! 42 "), "hélloworld42");
    }

    #[test]
    fn non_ascii_text_scores_as_ascii_text_does() {
        // One letter of four changed: 2 of 3 bigrams shared each side.
        assert!((dice("cafe", "cafx") - 2.0 / 3.0).abs() < 1e-9);
        assert!((dice("café", "cafë") - 2.0 / 3.0).abs() < 1e-9);
        assert!((dice("東京都庁", "東京都市") - 2.0 / 3.0).abs() < 1e-9);
    }
    /// A timing, not a check: `cargo test -p roundtable-core --release --lib
    /// similarity_timing -- --ignored --nocapture` prints how long eight
    /// answers of about 5 KB take.
    #[test]
    #[ignore]
    fn similarity_timing() {
        let words = [
            "the", "model", "answer", "capital", "river", "because", "é", "東京",
        ];
        let texts: Vec<String> = (0..8)
            .map(|k| {
                let mut t = String::new();
                let mut i = k;
                while t.len() < 5_000 {
                    t.push_str(words[i % words.len()]);
                    t.push(' ');
                    i = (i * 7 + 3 + k) % 1_000_003;
                }
                t
            })
            .collect();
        let answers: Vec<(usize, &str)> = texts.iter().map(String::as_str).enumerate().collect();
        let started = std::time::Instant::now();
        let runs = 20;
        for _ in 0..runs {
            std::hint::black_box(similarity(&answers));
        }
        println!(
            "8 answers of ~5 KB: {:?} a matrix",
            started.elapsed() / runs
        );
    }
}
