//! What a pass reads and files in DataZone: the listing the spec names, the one request for it
//! (filed once: a client token from the object, and a conflict answered by the project's open
//! request), and the subscription and grants it became. Made as the consumer's connection role.

use crate::controller::decide::pass::{Blocked, Phase};
use crate::controller::decide::subscription::{Filing, filing, request_token, spec_hash};
use crate::controller::fleet::cache::{Cache, STABLE};
use crate::controller::fleet::keys::Lookup;
use crate::crd::{DataZoneSubscription, DataZoneSubscriptionStatus, SubscriptionDeletionPolicy};
use crate::datazone::{Consumer, DataZone, GrantInfo, ListingInfo, ListingKind, OwnRequest, SubscriptionInfo};

/// Conditions of a subscription name the phase of the connection for errors reaching DataZone.
pub const PHASE: Phase = Phase::ConnectionResolved;

/// What a pass found.
pub struct Followed {
    pub listing_id: String,
    /// `data product sales-orders of team-sales`, or the listing's name for one named by ID.
    pub what: String,
    pub request: Option<OwnRequest>,
    pub subscription: Option<SubscriptionInfo>,
    pub grants: Vec<GrantInfo>,
    /// A request was filed this pass.
    pub filed: bool,
    /// The request the spec no longer wants, let go this pass (its ID).
    pub released: Option<String>,
    pub spec_hash: String,
}

/// The listing the spec names: by ID, or by name and owning project (exactly one). One found for
/// this generation already is not looked for again (a listing's ID does not change).
pub async fn find_listing<D: DataZone + Consumer>(
    dz: &D,
    ids: &Cache<Lookup, String>,
    domain: &str,
    s: &DataZoneSubscription,
) -> Result<(String, String), Blocked> {
    let status = s.status.clone().unwrap_or_default();
    if let (Some(id), Some(what)) = (&status.listing_id, &status.wanted)
        && status.observed_generation == s.metadata.generation
    {
        return Ok((id.clone(), what.clone()));
    }
    let (listing, what) = search(dz, ids, domain, s).await?;
    Ok((listing.id, what))
}

async fn search<D: DataZone + Consumer>(
    dz: &D,
    ids: &Cache<Lookup, String>,
    domain: &str,
    s: &DataZoneSubscription,
) -> Result<(ListingInfo, String), Blocked> {
    let dz_err = |e| Blocked::dz(PHASE, e);
    let wanted = &s.spec.wanted;
    if let Some(id) = &wanted.listing_id {
        let found = dz.get_listing(domain, id).await.map_err(dz_err)?;
        let listing = found.ok_or_else(|| {
            let message =
                format!("no listing {id} in the catalog of domain {domain} (yet): looked for again at the resync");
            Blocked::retryable(PHASE, "NotFound", message)
        })?;
        let what = format!("{} {} (listing {id})", listing.kind.word(), listing.name);
        return Ok((listing, what));
    }
    let (kind, published) = match (&wanted.data_product, &wanted.asset) {
        (Some(p), _) => (ListingKind::DataProduct, p),
        (None, Some(a)) => (ListingKind::Asset, a),
        (None, None) => return Err(Blocked::terminal(PHASE, "InvalidSpec", "spec.wanted names nothing")),
    };
    let what = format!("{} {} of {}", kind.word(), published.name, published.project);
    // The owning project's ID, shared with every subscription and data product that names it:
    // a thousand subscriptions to one team's products look it up once.
    let lookup = Lookup::Project { domain: domain.to_string(), project: published.project.clone() };
    let found = ids.get_or_find(lookup, STABLE, || dz.find_project(domain, &published.project)).await;
    let owner = found.map_err(dz_err)?.ok_or_else(|| {
        let message = format!("no project {} in domain {domain}: looked for again at the resync", published.project);
        Blocked::retryable(PHASE, "NotFound", message)
    })?;
    let mut found = dz.find_listings(domain, kind, &published.name, &owner).await.map_err(dz_err)?;
    match found.len() {
        0 => Err(Blocked::retryable(
            PHASE,
            "NotFound",
            format!("{what} is not in the catalog (not published yet?): looked for again at the resync"),
        )),
        1 => Ok((found.remove(0), what)),
        _ => {
            let ids: Vec<&str> = found.iter().map(|l| l.id.as_str()).collect();
            let message =
                format!("{what} names {} listings ({}): name one by spec.wanted.listingId", ids.len(), ids.join(", "));
            Err(Blocked::terminal(PHASE, "Ambiguous", message))
        }
    }
}

/// Whether the request status knows of ended: rejected, withdrawn, or its subscription revoked
/// or cancelled.
pub fn ended(status: &DataZoneSubscriptionStatus) -> bool {
    let request = status.request.as_ref().map(|r| r.state.as_str());
    let subscription = status.subscription.as_ref().map(|s| s.state.as_str());
    matches!(request, Some("REJECTED" | "WITHDRAWN")) || matches!(subscription, Some("REVOKED" | "CANCELLED"))
}

/// Files, finds or follows the request for `listing`, and reads what it became.
#[allow(clippy::too_many_arguments)]
pub async fn follow<D: DataZone + Consumer>(
    dz: &D,
    domain: &str,
    project: &str,
    uid: &str,
    s: &DataZoneSubscription,
    status: &DataZoneSubscriptionStatus,
    listing: String,
    what: String,
    pending: Option<&std::collections::BTreeSet<String>>,
    approved: Option<&std::collections::BTreeSet<String>>,
) -> Result<Followed, Blocked> {
    let dz_err = |e| Blocked::dz(PHASE, e);
    let hash = spec_hash(&s.spec);
    let requested_at = s.metadata.annotations.as_ref().and_then(|a| a.get(crate::crd::RECONCILE_REQUESTED_AT));
    let known = status.request.as_ref().map(|r| (r, status.listing_id.as_deref()));
    let step = filing(
        known,
        &listing,
        &hash,
        ended(status),
        requested_at.map(String::as_str),
        status.last_handled_reconcile_at.as_deref(),
    );
    let mut released = None;
    if step == Filing::Other
        && s.spec.deletion_policy == SubscriptionDeletionPolicy::Cancel
        && let Some(old) = &status.request
    {
        let_go(dz, domain, &old.id).await?;
        released = Some(old.id.clone());
    }
    let (request, filed) = match step {
        Filing::First | Filing::Other | Filing::Again => {
            let token = request_token(uid, &listing, &hash, requested_at.map(String::as_str));
            (Some(file(dz, domain, project, &listing, &s.spec.reason, &token).await?), true)
        }
        Filing::Follow => match unchanged(status, &listing, pending) {
            Some(r) => (Some(r), false),
            None => {
                let known = status.request.as_ref().map(|r| r.id.as_str()).unwrap_or_default();
                (dz.get_request(domain, known).await.map_err(dz_err)?, false)
            }
        },
    };
    let mut subscription = None;
    let mut grants = Vec::new();
    // Granted, and still in the project's listing of approved subscriptions: nothing moved
    // (a revoked or cancelled one leaves that listing; completed grants stay so).
    let settled = status
        .subscription
        .as_ref()
        .filter(|x| !filed && x.state == "APPROVED" && granted(status) && approved.is_some_and(|a| a.contains(&x.id)));
    if let Some(x) = settled {
        let subscription = SubscriptionInfo {
            id: x.id.clone(),
            listing_id: listing.clone(),
            entity_id: None,
            project_id: project.to_string(),
            project_name: None,
            status: x.state.clone(),
        };
        let grants = status
            .grants
            .iter()
            .map(|g| GrantInfo {
                id: String::new(),
                target_id: g.target_id.clone(),
                status: g.status.clone(),
                assets: vec![(g.asset_id.clone(), g.asset_status.clone())],
            })
            .collect();
        let subscription = Some(subscription);
        return Ok(Followed {
            listing_id: listing,
            what,
            request,
            subscription,
            grants,
            filed,
            released,
            spec_hash: hash,
        });
    }
    if let Some(r) = request.as_ref().filter(|r| r.status == "ACCEPTED") {
        let known = status.subscription.as_ref().filter(|_| !filed).map(|x| x.id.clone());
        subscription = match known {
            Some(id) => dz.get_subscription(domain, &id).await.map_err(dz_err)?,
            None => dz.subscription_of(domain, &r.id).await.map_err(dz_err)?,
        };
        if let Some(sub) = subscription.as_ref().filter(|x| x.status == "APPROVED") {
            grants = dz.grants(domain, &sub.id).await.map_err(dz_err)?;
        }
    }
    Ok(Followed { listing_id: listing, what, request, subscription, grants, filed, released, spec_hash: hash })
}

/// Every asset of every grant status shows is GRANTED in a COMPLETED grant.
pub fn granted(status: &DataZoneSubscriptionStatus) -> bool {
    !status.grants.is_empty() && status.grants.iter().all(|g| g.status == "COMPLETED" && g.asset_status == "GRANTED")
}

/// The request as status knows it, when that needs no read: an accepted one stays accepted (what
/// it became is read instead), and a pending one still in the project's listing of pending
/// requests is still pending.
fn unchanged(
    status: &DataZoneSubscriptionStatus,
    listing: &str,
    pending: Option<&std::collections::BTreeSet<String>>,
) -> Option<OwnRequest> {
    let r = status.request.as_ref()?;
    let accepted = r.state == "ACCEPTED" && status.subscription.is_some();
    let waiting = r.state == "PENDING" && pending.is_some_and(|p| p.contains(&r.id));
    (accepted || waiting).then(|| OwnRequest {
        id: r.id.clone(),
        listing_id: listing.to_string(),
        status: r.state.clone(),
        decision_comment: r.decision_comment.clone(),
    })
}

/// Files the request; one the project already has open for the listing (filed before status
/// recorded it, or by a person) is taken as this object's, never a second.
async fn file<D: DataZone + Consumer>(
    dz: &D,
    domain: &str,
    project: &str,
    listing: &str,
    reason: &str,
    token: &str,
) -> Result<OwnRequest, Blocked> {
    match dz.request_subscription(domain, project, listing, reason, token).await {
        Ok(r) => Ok(r),
        Err(e) if e.is_conflict() => {
            let open = dz.open_requests(domain, project, listing).await.map_err(|e| Blocked::dz(PHASE, e))?;
            // An accepted one (a live subscription) before a pending one.
            let mut open = open;
            open.sort_by_key(|r| r.status != "ACCEPTED");
            open.into_iter().next().ok_or_else(|| Blocked::dz(PHASE, e))
        }
        Err(e) if e.code == "AccessDeniedException" => {
            let message = format!(
                "the connection's role may not subscribe as project {project}: it must be a member (contributor or owner) of the consuming project ({})",
                e.message
            );
            Err(Blocked::terminal(PHASE, "NotAMember", message))
        }
        Err(e) if e.is_not_found() => {
            let message = format!("listing {listing} is no longer in the catalog: looked for again at the resync");
            Err(Blocked::retryable(PHASE, "NotFound", message))
        }
        Err(e) => Err(Blocked::dz(PHASE, e)),
    }
}

/// Lets go of a request and what it became: a pending one is withdrawn, an approved
/// subscription cancelled; one already ended (or gone) is left. Idempotent.
pub async fn let_go<D: DataZone + Consumer>(dz: &D, domain: &str, request: &str) -> Result<LetGo, Blocked> {
    let dz_err = |e| Blocked::dz(PHASE, e);
    let Some(r) = dz.get_request(domain, request).await.map_err(dz_err)? else { return Ok(LetGo::Nothing) };
    match r.status.as_str() {
        "PENDING" => match dz.withdraw_request(domain, &r.id).await {
            Ok(()) => Ok(LetGo::Withdrawn),
            Err(e) if e.is_not_found() => Ok(LetGo::Nothing),
            Err(e) => Err(dz_err(e)),
        },
        "ACCEPTED" => {
            let Some(sub) = dz.subscription_of(domain, &r.id).await.map_err(dz_err)? else { return Ok(LetGo::Nothing) };
            if sub.status != "APPROVED" {
                return Ok(LetGo::Nothing);
            }
            match dz.cancel_subscription(domain, &sub.id).await {
                Ok(()) => Ok(LetGo::Cancelled(sub.id)),
                Err(e) if e.is_not_found() || e.is_conflict() => Ok(LetGo::Nothing),
                Err(e) => Err(dz_err(e)),
            }
        }
        _ => Ok(LetGo::Nothing),
    }
}

/// What letting go did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LetGo {
    Withdrawn,
    Cancelled(String),
    Nothing,
}
