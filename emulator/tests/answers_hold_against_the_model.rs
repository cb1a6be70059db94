//! The check every other emulator test runs on every DataZone answer ([`common::shapes`]) finds
//! what it is for: a member the shape lacks, a missing required one, a wrong enum value or
//! timestamp format, each named by its JSON path.

mod common;

use common::shapes::Model;
use serde_json::json;

#[test]
fn problems_name_their_path() {
    let model = Model::load();
    let good = json!({"id": "dzd_1", "status": "AVAILABLE", "domainExecutionRole": "arn:aws:iam::111111111111:role/x",
                      "createdAt": 1.7e9, "domainVersion": "V2"});
    assert!(model.check("GetDomain", &good).is_empty(), "{:?}", model.check("GetDomain", &good));
    let mut bad = good.clone();
    bad["managedAccountId"] = json!("111111111111");
    bad["domainVersion"] = json!("V3");
    bad["createdAt"] = json!("2026-12-02T18:00:00Z");
    bad.as_object_mut().unwrap().remove("status");
    let problems = model.check("GetDomain", &bad);
    assert_eq!(problems.len(), 4, "{problems:#?}");
    for expected in [
        "GetDomain.managedAccountId: no such member",
        "GetDomain.domainVersion: not one of the enum's values",
        "GetDomain.createdAt: not epoch seconds",
        "GetDomain.status: required",
    ] {
        assert!(problems.iter().any(|p| p.starts_with(expected)), "{expected} in {problems:#?}");
    }
    // Nested shapes, lists and ISO-8601 timestamps too.
    let listing = json!({"items": [{"dataSourceId": "ds1", "domainId": "dzd_1", "name": "n", "type": "REDSHIFT",
                                     "status": "READY", "createdAt": 1.7e9}]});
    let problems = model.check("ListDataSources", &listing);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].starts_with("ListDataSources.items[0].createdAt: not an ISO-8601 timestamp"), "{problems:?}");
}
