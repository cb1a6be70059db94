//! Deterministic, collision-resistant names: Kubernetes object names derived from Redshift
//! identifiers, and (later) DataZone names derived from Kubernetes ones. A name that must be
//! shortened keeps a hash of the full input, so two long inputs never collapse into one name.

/// FNV-1a, 64 bit: stable across Rust releases and platforms (std's hasher is not), so a name
/// derived today is the same name after an upgrade.
pub fn stable_hash(input: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in input.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// An 8-hex-digit digest of `input`.
pub fn short_hash(input: &str) -> String {
    format!("{:08x}", stable_hash(input) as u32)
}

/// Turns arbitrary text into a DNS-1123 label of at most `max` characters (`max` ≥ 10):
/// lowercase, runs of anything but `[a-z0-9]` become one `-`, no leading or trailing `-`.
/// When the result had to be shortened, or nothing usable is left, a hash of `input` is
/// appended so distinct inputs stay distinct.
pub fn dns1123_label(input: &str, max: usize) -> String {
    let mut label = String::with_capacity(input.len());
    for ch in input.chars().flat_map(char::to_lowercase) {
        if ch.is_ascii_lowercase() || ch.is_ascii_digit() {
            label.push(ch);
        } else if !label.is_empty() && !label.ends_with('-') {
            label.push('-');
        }
    }
    let label = label.trim_end_matches('-');
    if label.is_empty() {
        return format!("x-{}", short_hash(input));
    }
    if label.len() <= max {
        return label.to_string();
    }
    let hash = short_hash(input);
    let keep = max - hash.len() - 1;
    format!("{}-{hash}", label[..keep].trim_end_matches('-'))
}

/// Appends `-<n>` to `label`, shortening it so the result stays within `max` characters.
pub fn with_suffix(label: &str, n: usize, max: usize) -> String {
    let suffix = format!("-{n}");
    let keep = max.saturating_sub(suffix.len()).min(label.len());
    format!("{}{suffix}", label[..keep].trim_end_matches('-'))
}

/// Whether `s` is a DNS-1123 label (what Kubernetes requires of namespace names).
pub fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Whether `s` is a DNS-1123 subdomain (what Kubernetes requires of most object names).
pub fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable() {
        // Pinned: a change here renames every object the operator ever derived.
        assert_eq!(stable_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(short_hash("prod-dwh/sales"), short_hash("prod-dwh/sales"));
        assert_ne!(short_hash("prod-dwh/sales"), short_hash("prod-dwh/sale"));
    }

    #[test]
    fn label_table() {
        let cases = [
            ("prod-dwh-sales", "prod-dwh-sales"),
            ("Prod_DWH--Sales", "prod-dwh-sales"),
            ("__a__", "a"),
            ("db.v2", "db-v2"),
            ("ÄBC", "bc"),
        ];
        for (input, want) in cases {
            assert_eq!(dns1123_label(input, 63), want, "input {input:?}");
        }
    }

    #[test]
    fn nothing_usable_gets_a_hash() {
        let a = dns1123_label("___", 63);
        let b = dns1123_label("---", 63);
        assert!(is_dns1123_label(&a) && is_dns1123_label(&b));
        assert_ne!(a, b);
    }

    #[test]
    fn long_labels_are_cut_with_a_hash() {
        let long_a = format!("{}a", "x".repeat(80));
        let long_b = format!("{}b", "x".repeat(80));
        let (a, b) = (dns1123_label(&long_a, 63), dns1123_label(&long_b, 63));
        assert_eq!(a.len(), 63);
        assert!(is_dns1123_label(&a));
        assert_ne!(a, b, "two long inputs sharing a prefix must not collide");
    }

    #[test]
    fn suffix_fits() {
        assert_eq!(with_suffix("prod-dwh-sales", 2, 63), "prod-dwh-sales-2");
        let full = "y".repeat(63);
        let s = with_suffix(&full, 12, 63);
        assert_eq!(s.len(), 63);
        assert!(s.ends_with("-12"));
    }

    #[test]
    fn dns_checks() {
        assert!(is_dns1123_label("team-sales"));
        assert!(!is_dns1123_label("Team"));
        assert!(!is_dns1123_label("-a"));
        assert!(!is_dns1123_label(&"a".repeat(64)));
        assert!(is_dns1123_subdomain("central.mesh"));
        assert!(!is_dns1123_subdomain("central..mesh"));
    }
}
