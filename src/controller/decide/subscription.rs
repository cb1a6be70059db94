//! A consumer's `DataZoneSubscription`, pure: where its request, subscription and grants stand
//! (the conditions and the `Ready` that users, kstatus and Argo CD read), whether a new request
//! is to be filed, and the client token that makes filing it once survive a crash
//! (docs/guide/subscriptions.md; DataZone's behaviour: docs/datazone-semantics.md §15).

use crate::crd::{DataZoneSubscriptionSpec, GrantStatus, RequestStatus};
use crate::datazone::{GrantInfo, OwnRequest, SubscriptionInfo};
use crate::naming::stable_hash;

/// What the spec asks of a request: the consuming project, what is wanted, the reason and where
/// the grant lands. A request filed for another of these is not the one the spec asks for.
pub fn spec_hash(spec: &DataZoneSubscriptionSpec) -> String {
    let asked = serde_json::json!([spec.project, spec.wanted, spec.reason, spec.redshift]);
    format!("{:016x}", stable_hash(&asked.to_string()))
}

/// The client token of the request the object files for `listing`: the same across restarts and
/// crashes for the same object, listing, spec and `reconcile-requested-at` annotation, so DataZone
/// answers the request it already made instead of making a second one.
pub fn request_token(uid: &str, listing: &str, spec_hash: &str, requested_at: Option<&str>) -> String {
    let key = format!("{uid}|{listing}|{spec_hash}|{}", requested_at.unwrap_or_default());
    format!("dzop-sub-{:016x}", stable_hash(&key))
}

/// Whether to file a request for `listing` now, given the one status knows of (if any) and where
/// it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filing {
    /// None is known: file one (the client token finds one filed before a crash).
    First,
    /// The spec now wants another listing: the old request or subscription is let go first.
    Other,
    /// The known one ended (rejected, revoked, cancelled, withdrawn) and the spec or the
    /// `reconcile-requested-at` annotation changed since: a new one.
    Again,
    /// Follow the known one.
    Follow,
}

/// What to do about the request, from what status knows: the listing the known request was filed
/// for, the spec it was filed for, whether it ended, and the annotation last acted on.
pub fn filing(
    known: Option<(&RequestStatus, Option<&str>)>,
    listing: &str,
    spec_hash: &str,
    ended: bool,
    requested_at: Option<&str>,
    handled: Option<&str>,
) -> Filing {
    let Some((request, known_listing)) = known else { return Filing::First };
    if known_listing != Some(listing) {
        return Filing::Other;
    }
    let asked_again = request.spec_hash != spec_hash || (requested_at.is_some() && requested_at != handled);
    if ended && asked_again { Filing::Again } else { Filing::Follow }
}

/// Where a subscription stands, from the request, the subscription it became and its grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Filed, waiting for the producer's decision.
    Pending,
    /// Rejected, with the approver's comment.
    Rejected(Option<String>),
    /// Withdrawn or deleted outside the operator while pending.
    Withdrawn,
    /// Accepted, the subscription not (yet) seen.
    Accepted,
    /// Approved; the grants.
    Approved(Grants),
    /// The producer revoked it.
    Revoked,
    /// Cancelled, not by this object (someone unsubscribed in the portal).
    Cancelled,
}

/// The grants of an approved subscription, per asset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grants {
    /// DataZone made none: the consuming project has no subscription target for these assets.
    None,
    /// Some are still being made: granted of total assets.
    InProgress { granted: usize, total: usize },
    /// Every asset granted in every target.
    Completed { total: usize },
    /// A grant failed: the target and DataZone's status.
    Failed { target: String, status: String },
}

/// Statuses of a grant that no longer move on their own [model: SubscriptionGrantOverallStatus].
const GRANT_FAILED: [&str; 4] = ["GRANT_FAILED", "GRANT_AND_REVOKE_FAILED", "REVOKE_FAILED", "INACCESSIBLE"];

/// The grants, per asset.
pub fn grants(all: &[GrantInfo]) -> Grants {
    if all.is_empty() {
        return Grants::None;
    }
    if let Some(g) = all
        .iter()
        .find(|g| GRANT_FAILED.contains(&g.status.as_str()) || g.assets.iter().any(|(_, s)| s == "GRANT_FAILED"))
    {
        return Grants::Failed { target: g.target_id.clone(), status: g.status.clone() };
    }
    let total: usize = all.iter().map(|g| g.assets.len()).sum();
    let granted = all.iter().flat_map(|g| &g.assets).filter(|(_, s)| s == "GRANTED").count();
    if granted == total && all.iter().all(|g| g.status == "COMPLETED") {
        Grants::Completed { total }
    } else {
        Grants::InProgress { granted, total }
    }
}

/// Where the request and what it became stand.
pub fn standing(request: Option<&OwnRequest>, subscription: Option<&SubscriptionInfo>, all: &[GrantInfo]) -> Standing {
    let Some(request) = request else { return Standing::Withdrawn };
    match request.status.as_str() {
        "PENDING" => Standing::Pending,
        "REJECTED" => Standing::Rejected(request.decision_comment.clone()),
        _ => match subscription.map(|s| s.status.as_str()) {
            None => Standing::Accepted,
            Some("REVOKED") => Standing::Revoked,
            Some("CANCELLED") => Standing::Cancelled,
            Some(_) => Standing::Approved(grants(all)),
        },
    }
}

impl Standing {
    /// Ended: nothing comes of it any more without a new request.
    pub fn ended(&self) -> bool {
        matches!(self, Standing::Rejected(_) | Standing::Withdrawn | Standing::Revoked | Standing::Cancelled)
    }
}

/// One condition as a pass states it: type, status, reason, message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Said {
    pub type_: &'static str,
    pub status: bool,
    pub reason: &'static str,
    pub message: String,
}

/// What a pass says of the subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Requested, Approved, Granted (those that apply yet).
    pub conditions: Vec<Said>,
    /// Ready: true only when every grant completed.
    pub ready: bool,
    /// Not ready and nothing will change without a person (kstatus `Stalled`, Argo CD Degraded).
    pub stalled: bool,
    pub reason: &'static str,
    pub message: String,
    /// Something is moving in DataZone: look again soon (else at the resync).
    pub moving: bool,
}

fn said(type_: &'static str, status: bool, reason: &'static str, message: impl Into<String>) -> Said {
    Said { type_, status, reason, message: message.into() }
}

pub const REQUESTED: &str = "Requested";
pub const APPROVED: &str = "Approved";
pub const GRANTED: &str = "Granted";
/// Ready's reason while a person has the request to decide.
pub const AWAITING_APPROVAL: &str = "AwaitingApproval";

/// What the standing says: the conditions and Ready. `request` is the request's ID, `what` names
/// what is wanted (`data product sales-orders of team-sales`), `project` the consuming project.
pub fn verdict(standing: &Standing, request: &str, what: &str, project: &str) -> Verdict {
    let requested = said(REQUESTED, true, "Filed", format!("request {request} for {what} filed as project {project}"));
    let approved = |status, reason, message: String| said(APPROVED, status, reason, message);
    let (extra, ready, stalled, reason, message, moving): (Vec<Said>, bool, bool, &'static str, String, bool) =
        match standing {
            Standing::Pending => {
                let m = format!("request {request} for {what} waits for its owner's decision");
                (vec![approved(false, "Pending", m.clone())], false, false, AWAITING_APPROVAL, m, true)
            }
            Standing::Rejected(comment) => {
                let m = format!(
                    "request {request} for {what} was rejected: {}; change the spec or set the reconcile-requested-at annotation to ask again",
                    comment.as_deref().unwrap_or("(no comment)")
                );
                (vec![approved(false, "Rejected", m.clone())], false, true, "Rejected", m, false)
            }
            Standing::Withdrawn => {
                let m = format!(
                    "request {request} for {what} is gone (withdrawn or deleted outside the operator); change the spec or set the reconcile-requested-at annotation to ask again"
                );
                (vec![approved(false, "Withdrawn", m.clone())], false, true, "Withdrawn", m, false)
            }
            Standing::Accepted => {
                let m = format!("request {request} for {what} was accepted; its subscription is not seen yet");
                (vec![approved(true, "Accepted", m.clone())], false, false, "Accepted", m, true)
            }
            Standing::Revoked => {
                let m = format!(
                    "the owner of {what} revoked the subscription; no new request is filed until the spec or the reconcile-requested-at annotation changes"
                );
                (vec![approved(false, "Revoked", m.clone())], false, true, "Revoked", m, false)
            }
            Standing::Cancelled => {
                let m = format!(
                    "the subscription to {what} was cancelled outside the operator; change the spec or set the reconcile-requested-at annotation to subscribe again"
                );
                (vec![approved(false, "Cancelled", m.clone())], false, true, "Cancelled", m, false)
            }
            Standing::Approved(g) => {
                let ok = approved(true, "Accepted", format!("request {request} for {what} was accepted"));
                let (granted, ready, stalled, reason, m, moving) = match g {
                    Grants::Completed { total } => {
                        let m = format!("{what}: {total} of {total} assets granted to project {project}");
                        (said(GRANTED, true, "Granted", m.clone()), true, false, "Granted", m, false)
                    }
                    Grants::InProgress { granted, total } => {
                        let m = format!("{what}: {granted} of {total} assets granted to project {project} so far");
                        (said(GRANTED, false, "Granting", m.clone()), false, false, "Granting", m, true)
                    }
                    Grants::None => {
                        let m = format!(
                            "{what} was approved but DataZone made no grant: project {project} has no subscription target for its assets (a data warehouse environment, or spec.redshift); DataZone does not grant into a target made after approval"
                        );
                        (said(GRANTED, false, "NoTarget", m.clone()), false, false, "NoTarget", m, true)
                    }
                    Grants::Failed { target, status } => {
                        let m = format!("the grant of {what} into subscription target {target} is {status}");
                        (said(GRANTED, false, "GrantFailed", m.clone()), false, true, "GrantFailed", m, false)
                    }
                };
                (vec![ok, granted], ready, stalled, reason, m, moving)
            }
        };
    let mut conditions = vec![requested];
    conditions.extend(extra);
    Verdict { conditions, ready, stalled, reason, message, moving }
}

/// The grants as status shows them: per granted asset, its target and statuses.
pub fn grant_statuses(all: &[GrantInfo]) -> Vec<GrantStatus> {
    all.iter()
        .flat_map(|g| {
            g.assets.iter().map(|(asset, status)| GrantStatus {
                asset_id: asset.clone(),
                target_id: g.target_id.clone(),
                status: g.status.clone(),
                asset_status: status.clone(),
            })
        })
        .collect()
}

/// `2/3 granted`, for the printer column (None before any grant).
pub fn grant_summary(all: &[GrantInfo]) -> Option<String> {
    let total: usize = all.iter().map(|g| g.assets.len()).sum();
    let granted = all.iter().flat_map(|g| &g.assets).filter(|(_, s)| s == "GRANTED").count();
    (total > 0).then(|| format!("{granted}/{total} granted"))
}

#[cfg(test)]
mod tests;
