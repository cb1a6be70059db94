//! Time and identifiers in the formats DataZone uses.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time, kept as milliseconds since the epoch (cheap to copy, total order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub u64);

impl Instant {
    pub fn now() -> Self {
        Self(SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0))
    }
    pub fn plus(self, d: Duration) -> Self {
        Self(self.0 + d.as_millis() as u64)
    }
    /// ISO-8601 with milliseconds (`2026-11-25T01:02:03.456Z`), for members the model marks
    /// `timestampFormat: iso8601`.
    pub fn iso(self) -> serde_json::Value {
        let ts = jiff::Timestamp::from_millisecond(self.0 as i64).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        serde_json::Value::String(format!("{ts:.3}"))
    }
    /// Epoch seconds with a fraction, the restJson1 default for timestamps.
    pub fn epoch(self) -> serde_json::Value {
        serde_json::json!(self.0 as f64 / 1000.0)
    }
    /// ISO-8601 text for XML (STS) responses.
    pub fn iso_text(self) -> String {
        let ts = jiff::Timestamp::from_millisecond(self.0 as i64).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        format!("{ts:.0}")
    }
}

/// Random-looking identifiers: 14 characters of `[a-z0-9]`, as DataZone's IDs look.
pub struct IdGenerator {
    state: AtomicU64,
}

impl Default for IdGenerator {
    fn default() -> Self {
        let seed = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1);
        Self { state: AtomicU64::new(seed | 1) }
    }
}

impl IdGenerator {
    fn next_u64(&self) -> u64 {
        // splitmix64 over an atomic counter: unique per call, well mixed, no locking.
        let mut z = self.state.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `len` characters from `alphabet`.
    pub fn chars(&self, alphabet: &[u8], len: usize) -> String {
        let mut out = String::with_capacity(len);
        let mut bits = self.next_u64();
        for i in 0..len {
            if i % 10 == 9 {
                bits = self.next_u64();
            }
            out.push(alphabet[(bits % alphabet.len() as u64) as usize] as char);
            bits /= alphabet.len() as u64;
        }
        out
    }

    /// A uniform number in [0, 1), for fault rates.
    pub fn unit(&self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A DataZone resource ID (`[a-z0-9]{14}`).
    pub fn id(&self) -> String {
        self.chars(b"abcdefghijklmnopqrstuvwxyz0123456789", 14)
    }

    /// A request ID (UUID-shaped).
    pub fn request_id(&self) -> String {
        let hex = self.chars(b"0123456789abcdef", 32);
        format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_like_datazone_ids_and_do_not_repeat() {
        let ids = IdGenerator::default();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let id = ids.id();
            assert_eq!(id.len(), 14);
            assert!(id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
            assert!(seen.insert(id));
        }
    }

    #[test]
    fn timestamp_formats() {
        let t = Instant(1_764_032_523_456);
        assert_eq!(t.iso(), serde_json::json!("2025-11-25T01:02:03.456Z"));
        assert_eq!(t.epoch(), serde_json::json!(1_764_032_523.456));
        assert_eq!(t.iso_text(), "2025-11-25T01:02:03Z");
    }
}
