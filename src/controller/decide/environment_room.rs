//! Whether a plan's new environments fit in their domain: DataZone holds at most 500 environments a
//! domain by default (docs/datazone-semantics.md §3), and a data product whose environment meets
//! the quota stalls (`EnvironmentQuotaExceeded`). `plan` counts what the connection's role can
//! read (the environments of the projects it may list), so its count is a lower bound: the warning
//! says so.

/// DataZone's default quota of environments per domain [docs: Quotas for Amazon DataZone].
pub const ENVIRONMENTS_PER_DOMAIN: usize = 500;

/// A share of the quota past which `plan` warns that the domain is nearly full.
const NEARLY_FULL: f64 = 0.9;

/// What `plan` found of one domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Room {
    pub domain: String,
    /// Environments (not DELETED) in the projects the role could read.
    pub held: usize,
    /// The projects it could read, and those it could list but not read.
    pub projects_read: usize,
    pub projects_unread: usize,
    /// New environments the plan makes, and the data products that need them.
    pub adding: usize,
    pub needing: usize,
}

/// A warning for `room`, if the plan fills the domain's quota (`quota` environments) or comes near.
pub fn warning(room: &Room, quota: usize) -> Option<String> {
    if room.adding == 0 {
        return None;
    }
    let after = room.held + room.adding;
    let seen = match room.projects_unread {
        0 => format!("{} in the {} projects its role can read", room.held, room.projects_read),
        n => format!(
            "at least {} (in the {} projects its role can read; {n} more it cannot read may hold others)",
            room.held, room.projects_read
        ),
    };
    let what = format!(
        "domain {}: this plan adds {} environment{} (for {} data product{}) to the {seen}",
        room.domain,
        room.adding,
        plural(room.adding),
        room.needing,
        plural(room.needing),
    );
    if after > quota {
        let over = after - quota;
        Some(format!(
            "{what}: {after} of the {quota} DataZone allows a domain; {over} would be refused and their data products stall (EnvironmentQuotaExceeded) until environments are deleted or the quota raised"
        ))
    } else if after as f64 > NEARLY_FULL * quota as f64 {
        Some(format!("{what}: {after} of the {quota} DataZone allows a domain; room for {} more", quota - after))
    } else {
        None
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(held: usize, adding: usize, unread: usize) -> Room {
        Room { domain: "dzd_1".into(), held, projects_read: 40, projects_unread: unread, adding, needing: adding * 3 }
    }

    #[test]
    fn a_plan_is_warned_when_it_fills_the_quota_or_comes_near_and_only_then() {
        let cases = [
            // (held, adding, unread, warned, words in it)
            (10, 5, 0, false, ""),
            (440, 10, 0, false, ""),
            (445, 10, 0, true, "455 of the 500 DataZone allows a domain; room for 45 more"),
            (499, 1, 0, true, "500 of the 500 DataZone allows a domain; room for 0 more"),
            (499, 3, 0, true, "502 of the 500 DataZone allows a domain; 2 would be refused"),
            (600, 0, 0, false, ""),
            (498, 4, 2, true, "at least 498 (in the 40 projects its role can read; 2 more it cannot read"),
        ];
        for (held, adding, unread, warned, words) in cases {
            let said = warning(&room(held, adding, unread), ENVIRONMENTS_PER_DOMAIN);
            assert_eq!(said.is_some(), warned, "{held} + {adding}: {said:?}");
            if let Some(said) = said {
                assert!(said.contains(words), "{said}");
                assert!(said.starts_with(&format!("domain dzd_1: this plan adds {adding} environment")), "{said}");
            }
        }
    }

    #[test]
    fn the_quota_can_be_a_raised_one() {
        assert_eq!(warning(&room(499, 3, 0), 1000), None);
        assert!(warning(&room(3, 1, 0), 4).is_some_and(|w| w.contains("4 of the 4")));
    }
}
