//! A seeded generator (splitmix64) for the property tests, so a failing case is replayed from
//! the seed it prints (`PROPERTY_SEED`).

pub struct Rng(pub u64);

impl Rng {
    /// The seed from `PROPERTY_SEED`, or `default`; printed, for a replay.
    pub fn from_env(default: u64) -> (Self, u64) {
        let seed = std::env::var("PROPERTY_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(default);
        println!("PROPERTY_SEED={seed}");
        (Self(seed), seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}
