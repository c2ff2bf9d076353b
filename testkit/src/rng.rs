//! The seeded random source of every simulation, and seeds that can be
//! replayed: a failing run prints its seed, and setting it again in the
//! environment gives the same run.

/// xorshift64*: small, fast and, above all, the same sequence for the same
/// seed on every machine, so a failing run can be replayed.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        // Zero is xorshift's one fixed point.
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        for byte in &mut out {
            *byte = self.next_u64() as u8;
        }
        out
    }
}

/// The seed from environment variable `var` if set (to replay a run),
/// otherwise a fresh one; printed either way so any run can be replayed.
pub fn seed_from_env(var: &str) -> u64 {
    let seed = replayed_seed(var).unwrap_or_else(fresh_seed);
    println!("{var}={seed} (set it to replay this run)");
    seed
}

/// The seed set in `var`, if any.
pub fn replayed_seed(var: &str) -> Option<u64> {
    let value = std::env::var(var).ok()?;
    Some(
        value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{var} must be a number, got {value:?}")),
    )
}

/// A seed that differs from run to run.
pub fn fresh_seed() -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the system's randomness");
    u64::from_le_bytes(bytes)
}

/// Says how to replay `seed` if the thread panics while this is alive, so
/// a test running many seeds names the one that failed.
pub struct ReplayHint {
    pub var: &'static str,
    pub seed: u64,
}

impl Drop for ReplayHint {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("this run failed: {}={} replays it", self.var, self.seed);
        }
    }
}

/// The seeds a many-seed test runs: only the one in `var` if set (to replay
/// a failure), otherwise `count` seeds from a fresh start, printed.
pub fn seeds(var: &'static str, count: u64) -> Vec<u64> {
    if let Some(seed) = replayed_seed(var) {
        return vec![seed];
    }
    let start = fresh_seed() >> 1;
    println!(
        "{var}: seeds {start}..{} (set one to replay it)",
        start + count
    );
    (start..start + count).collect()
}
