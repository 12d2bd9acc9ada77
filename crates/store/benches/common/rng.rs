//! The benches' seeded random draws, from `rand`'s `StdRng`: the same history
//! from one run to the next.

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng};

pub struct Rng(StdRng);

#[allow(dead_code)]
impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(StdRng::seed_from_u64(seed))
    }

    /// A whole number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        self.0.random_range(0..n)
    }

    /// A number in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0.random::<f64>()
    }

    /// Below `n`, skewed towards small numbers: some topics are far more
    /// common than others.
    pub fn skewed(&mut self, n: usize) -> usize {
        ((n as f64) * self.unit().powf(1.5)) as usize
    }
}
