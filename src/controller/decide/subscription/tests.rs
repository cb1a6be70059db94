use super::*;

fn request(status: &str, comment: Option<&str>) -> OwnRequest {
    OwnRequest {
        id: "sr-1".into(),
        listing_id: "l-1".into(),
        status: status.into(),
        decision_comment: comment.map(Into::into),
    }
}

fn subscription(status: &str) -> SubscriptionInfo {
    SubscriptionInfo {
        id: "sub-1".into(),
        listing_id: "l-1".into(),
        entity_id: None,
        project_id: "prj_analytics".into(),
        project_name: None,
        status: status.into(),
    }
}

fn grant(target: &str, status: &str, assets: &[&str]) -> GrantInfo {
    GrantInfo {
        id: format!("g-{target}"),
        target_id: target.into(),
        status: status.into(),
        assets: assets.iter().enumerate().map(|(i, s)| (format!("a{i}"), s.to_string())).collect(),
    }
}

#[test]
fn every_state_of_request_subscription_and_grants_has_its_standing() {
    let approved = subscription("APPROVED");
    let done = [grant("t1", "COMPLETED", &["GRANTED", "GRANTED"]), grant("t2", "COMPLETED", &["GRANTED"])];
    let halfway = [grant("t1", "IN_PROGRESS", &["GRANTED", "GRANT_IN_PROGRESS"])];
    let failed = [grant("t1", "COMPLETED", &["GRANTED"]), grant("t2", "GRANT_FAILED", &["GRANT_FAILED"])];
    let one_asset_failed = [grant("t1", "COMPLETED", &["GRANTED", "GRANT_FAILED"])];
    let rows: Vec<(&str, Standing)> = vec![
        ("gone", standing(None, None, &[])),
        ("pending", standing(Some(&request("PENDING", None)), None, &[])),
        ("rejected", standing(Some(&request("REJECTED", Some("no PII for you"))), None, &[])),
        ("accepted, no subscription yet", standing(Some(&request("ACCEPTED", None)), None, &[])),
        ("revoked", standing(Some(&request("ACCEPTED", None)), Some(&subscription("REVOKED")), &done)),
        ("cancelled", standing(Some(&request("ACCEPTED", None)), Some(&subscription("CANCELLED")), &[])),
        ("approved, no grant", standing(Some(&request("ACCEPTED", None)), Some(&approved), &[])),
        ("granting", standing(Some(&request("ACCEPTED", None)), Some(&approved), &halfway)),
        ("granted", standing(Some(&request("ACCEPTED", None)), Some(&approved), &done)),
        ("a grant failed", standing(Some(&request("ACCEPTED", None)), Some(&approved), &failed)),
        ("an asset failed", standing(Some(&request("ACCEPTED", None)), Some(&approved), &one_asset_failed)),
    ];
    let expected = [
        Standing::Withdrawn,
        Standing::Pending,
        Standing::Rejected(Some("no PII for you".into())),
        Standing::Accepted,
        Standing::Revoked,
        Standing::Cancelled,
        Standing::Approved(Grants::None),
        Standing::Approved(Grants::InProgress { granted: 1, total: 2 }),
        Standing::Approved(Grants::Completed { total: 3 }),
        Standing::Approved(Grants::Failed { target: "t2".into(), status: "GRANT_FAILED".into() }),
        Standing::Approved(Grants::Failed { target: "t1".into(), status: "COMPLETED".into() }),
    ];
    for ((name, got), want) in rows.into_iter().zip(expected) {
        assert_eq!(got, want, "{name}");
    }
    let all_done = grant("t1", "COMPLETED", &["GRANTED"]);
    let still_in_progress = grant("t1", "IN_PROGRESS", &["GRANTED"]);
    assert_eq!(grants(&[all_done]), Grants::Completed { total: 1 });
    assert_eq!(
        grants(&[still_in_progress]),
        Grants::InProgress { granted: 1, total: 1 },
        "granted assets of a grant not yet COMPLETED are not done"
    );
}

/// (standing, ready, stalled, Ready's reason, moving, the conditions as `Type=status/reason`).
#[test]
fn each_standing_says_ready_stalled_or_progressing_with_its_conditions() {
    let cases = [
        (Standing::Pending, false, false, "AwaitingApproval", true, "Requested=true/Filed Approved=false/Pending"),
        (
            Standing::Rejected(Some("no".into())),
            false,
            true,
            "Rejected",
            false,
            "Requested=true/Filed Approved=false/Rejected",
        ),
        (Standing::Withdrawn, false, true, "Withdrawn", false, "Requested=true/Filed Approved=false/Withdrawn"),
        (Standing::Accepted, false, false, "Accepted", true, "Requested=true/Filed Approved=true/Accepted"),
        (Standing::Revoked, false, true, "Revoked", false, "Requested=true/Filed Approved=false/Revoked"),
        (Standing::Cancelled, false, true, "Cancelled", false, "Requested=true/Filed Approved=false/Cancelled"),
        (
            Standing::Approved(Grants::None),
            false,
            false,
            "NoTarget",
            true,
            "Requested=true/Filed Approved=true/Accepted Granted=false/NoTarget",
        ),
        (
            Standing::Approved(Grants::InProgress { granted: 1, total: 3 }),
            false,
            false,
            "Granting",
            true,
            "Requested=true/Filed Approved=true/Accepted Granted=false/Granting",
        ),
        (
            Standing::Approved(Grants::Completed { total: 3 }),
            true,
            false,
            "Granted",
            false,
            "Requested=true/Filed Approved=true/Accepted Granted=true/Granted",
        ),
        (
            Standing::Approved(Grants::Failed { target: "t".into(), status: "GRANT_FAILED".into() }),
            false,
            true,
            "GrantFailed",
            false,
            "Requested=true/Filed Approved=true/Accepted Granted=false/GrantFailed",
        ),
    ];
    for (standing, ready, stalled, reason, moving, conditions) in cases {
        let v = verdict(&standing, "sr-1", "data product orders of sales", "analytics");
        let shown: Vec<String> =
            v.conditions.iter().map(|c| format!("{}={}/{}", c.type_, c.status, c.reason)).collect();
        assert_eq!(
            (v.ready, v.stalled, v.reason, v.moving, shown.join(" ")),
            (ready, stalled, reason, moving, conditions.to_string()),
            "{standing:?}"
        );
        assert!(!(standing.ended() && (v.ready || v.moving)), "an ended one waits for a person: {standing:?}");
    }
    let rejected = verdict(&Standing::Rejected(Some("no PII outside the EU".into())), "sr-1", "x", "p");
    assert!(
        rejected.message.contains("rejected: no PII outside the EU"),
        "the approver's comment: {}",
        rejected.message
    );
    let granted = verdict(&Standing::Approved(Grants::Completed { total: 3 }), "sr-1", "x", "analytics");
    assert_eq!(granted.message, "x: 3 of 3 assets granted to project analytics");
}

#[test]
fn a_new_request_is_filed_only_for_a_new_listing_or_an_ended_one_asked_again() {
    let known =
        RequestStatus { id: "sr-1".into(), state: "REJECTED".into(), decision_comment: None, spec_hash: "h1".into() };
    let k = Some((&known, Some("l-1")));
    let rows = [
        ("nothing known", filing(None, "l-1", "h1", false, None, None), Filing::First),
        ("another listing wanted", filing(Some((&known, Some("l-2"))), "l-1", "h1", false, None, None), Filing::Other),
        ("pending, spec changed", filing(k, "l-1", "h2", false, None, None), Filing::Follow),
        ("ended, nothing changed", filing(k, "l-1", "h1", true, None, None), Filing::Follow),
        ("ended, spec changed", filing(k, "l-1", "h2", true, None, None), Filing::Again),
        ("ended, annotation set", filing(k, "l-1", "h1", true, Some("t1"), None), Filing::Again),
        ("ended, annotation handled", filing(k, "l-1", "h1", true, Some("t1"), Some("t1")), Filing::Follow),
        ("ended, annotation changed", filing(k, "l-1", "h1", true, Some("t2"), Some("t1")), Filing::Again),
        ("live, annotation set", filing(k, "l-1", "h1", false, Some("t2"), Some("t1")), Filing::Follow),
    ];
    for (name, got, want) in rows {
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn the_request_token_is_stable_per_object_listing_spec_and_annotation() {
    let t = request_token("uid-1", "l-1", "h1", None);
    assert_eq!(t, request_token("uid-1", "l-1", "h1", None), "a crash and a restart file the same request");
    assert!(t.starts_with("dzop-sub-") && t.len() <= 64, "{t}");
    let others = [
        request_token("uid-2", "l-1", "h1", None),
        request_token("uid-1", "l-2", "h1", None),
        request_token("uid-1", "l-1", "h2", None),
        request_token("uid-1", "l-1", "h1", Some("2026-12-06T10:00:00Z")),
    ];
    assert!(others.iter().all(|o| *o != t), "{others:?}");
}

#[test]
fn grants_are_shown_per_asset_and_summed_for_the_printer_column() {
    let all = [grant("t1", "IN_PROGRESS", &["GRANTED", "GRANT_IN_PROGRESS"]), grant("t2", "COMPLETED", &["GRANTED"])];
    assert_eq!(grant_summary(&all).as_deref(), Some("2/3 granted"));
    assert_eq!(grant_summary(&[]), None);
    let shown = grant_statuses(&all);
    assert_eq!(shown.len(), 3);
    assert_eq!(
        (
            shown[1].asset_id.as_str(),
            shown[1].target_id.as_str(),
            shown[1].status.as_str(),
            shown[1].asset_status.as_str()
        ),
        ("a1", "t1", "IN_PROGRESS", "GRANT_IN_PROGRESS")
    );
}
