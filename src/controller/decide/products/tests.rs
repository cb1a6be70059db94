use super::*;

use serde_json::json;

const UID: &str = "uid-orders";

fn owner() -> Owner<'static> {
    Owner { namespace: "team-sales", name: "orders", uid: UID }
}

fn seen(schema: &str, id: &str) -> Seen {
    Seen { schema: schema.into(), asset_id: id.into(), created_with_forms: false }
}

/// The run's assets: orders, customers (public), v_orders (public), events (raw).
fn index() -> BTreeMap<String, Seen> {
    [("orders", "public", "a1"), ("customers", "public", "a2"), ("v_orders", "public", "a3"), ("events", "raw", "a4")]
        .into_iter()
        .map(|(n, s, id)| (n.to_string(), seen(s, id)))
        .collect()
}

fn spec(data_product: serde_json::Value) -> RedshiftDataProductSpec {
    serde_json::from_value(json!({
        "connectionRef": {"kind": "DataZoneConnection", "name": "central"},
        "project": "sales",
        "redshift": {"clusterName": "prod-dwh", "database": "sales",
                     "credentialsSecretArn": "arn:aws:secretsmanager:eu-central-1:222222222222:secret:x"},
        "schemas": [{"name": "public", "addAllTables": true, "addAllViews": true},
                    {"name": "raw", "addAllTables": true}],
        "dataProduct": data_product
    }))
    .expect("a valid spec")
}

/// (name, item asset IDs, missing) of a wanted data product.
type Shape = (String, Vec<String>, Vec<String>);

fn shape(w: &[Wanted]) -> Vec<Shape> {
    w.iter()
        .map(|w| (w.name.clone(), w.items.iter().map(|i| i.asset_id.clone()).collect(), w.missing.clone()))
        .collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn the_spec_groups_the_run_s_assets_into_data_products() {
    let long = "x".repeat(70);
    let cases: Vec<(&str, serde_json::Value, Vec<Shape>)> = vec![
        ("left out: none", serde_json::Value::Null, vec![]),
        (
            "one line: every asset, the resource's name",
            json!({}),
            vec![("orders".into(), strings(&["a2", "a4", "a1", "a3"]), vec![])],
        ),
        (
            "a name of its own",
            json!({"name": "Sales orders"}),
            vec![("Sales orders".into(), strings(&["a2", "a4", "a1", "a3"]), vec![])],
        ),
        (
            "per schema",
            json!({"per": "Schema"}),
            vec![
                ("orders-public".into(), strings(&["a2", "a1", "a3"]), vec![]),
                ("orders-raw".into(), strings(&["a4"]), vec![]),
            ],
        ),
        (
            "groups, an item the run does not have",
            json!({"groups": [
                {"name": "Orders", "items": [{"schema": "public", "name": "v_orders"}, {"schema": "public", "name": "orders"}]},
                {"name": "Raw", "items": [{"schema": "raw", "name": "events"}, {"schema": "raw", "name": "gone"},
                                          {"schema": "public", "name": "events"}]}
            ]}),
            vec![
                ("Orders".into(), strings(&["a1", "a3"]), vec![]),
                ("Raw".into(), strings(&["a4"]), strings(&["raw.gone", "public.events"])),
            ],
        ),
        (
            "a name over 64 is shortened with a hash",
            json!({"name": long}),
            vec![(format!("{}-{}", "x".repeat(55), short_hash(&long)), strings(&["a2", "a4", "a1", "a3"]), vec![])],
        ),
    ];
    for (what, dp, want) in cases {
        let got = wanted(&spec(dp), &owner(), &index());
        assert_eq!(shape(&got), want, "{what}");
        assert!(got.iter().all(|w| w.name.chars().count() <= 64), "{what}");
    }
}

#[test]
fn the_description_says_whose_data_product_it_is() {
    let given = description(Some("Orders of the EU shops"), &owner());
    assert!(given.starts_with("Orders of the EU shops\n\n"), "{given}");
    assert!(is_ours(Some(&given), UID));
    assert!(!is_ours(Some(&given), "uid-other"), "another resource's");
    assert!(!is_ours(Some("Orders of the EU shops"), UID), "a person's");
    assert!(!is_ours(None, UID));
    let default = description(None, &owner());
    assert!(default.starts_with("Tables and views of RedshiftDataProduct team-sales/orders"), "{default}");
    // The spec's 3,800 and the mark stay within DataZone's 4,096.
    let longest = description(Some(&"d".repeat(3800)), &owner());
    assert!(longest.len() <= 4096, "{}", longest.len());
}

#[test]
fn the_fingerprint_changes_with_what_the_revision_says_and_only_that() {
    let w = &wanted(&spec(json!({"glossaryTerms": ["sales/Order"]})), &owner(), &index())[0];
    let ids: BTreeMap<String, String> = [("sales/Order".to_string(), "term-1".to_string())].into();
    let base = w.revision(&ids, "token-a".into());
    assert_eq!(base.glossary_terms, strings(&["term-1"]));
    assert_eq!(fingerprint(&base), fingerprint(&w.revision(&ids, "token-b".into())), "the token is not said");
    let mut fewer = w.clone();
    fewer.items.pop();
    let mut described = w.clone();
    described.description.push('!');
    let other_term: BTreeMap<String, String> = [("sales/Order".to_string(), "term-2".to_string())].into();
    for (what, changed) in [
        ("an item less", fewer.revision(&ids, String::new())),
        ("the description", described.revision(&ids, String::new())),
        ("a term's ID", w.revision(&other_term, String::new())),
    ] {
        assert_ne!(fingerprint(&base), fingerprint(&changed), "{what}");
    }
}

fn entry(id: Option<&str>, revision: Option<&str>, hash: &str, listing: Option<&str>) -> CatalogProductStatus {
    CatalogProductStatus {
        name: "orders".into(),
        id: id.map(Into::into),
        revision: revision.map(Into::into),
        listing_status: listing.map(Into::into),
        listed_at: Some("2026-12-06T10:00:00Z".into()),
        hash: Some(hash.into()),
        items: 3,
        ..Default::default()
    }
}

fn listing(product: &str, revision: &str) -> ProductListing {
    ProductListing {
        listing_id: "l1".into(),
        listing_revision: "1".into(),
        product_id: product.into(),
        product_revision: revision.into(),
        name: "orders".into(),
        description: None,
        items: 3,
    }
}

#[test]
fn each_data_product_takes_the_one_step_it_needs() {
    let after = "2026-12-06T10:30:00Z";
    let before = "2026-12-06T09:00:00Z";
    let shows_2 = [listing("dp1", "2")];
    let shows_1 = [listing("dp1", "1")];
    let nothing: [ProductListing; 0] = [];
    let seen = |listings, taken| Catalog::Seen { listings, taken };
    let listed = entry(Some("dp1"), Some("2"), "h", Some("ACTIVE"));
    let revise = |why| ProductStep::Revise { id: "dp1".into(), why };
    let publish = |why| ProductStep::Publish { id: "dp1".into(), revision: "2".into(), why };
    let cases: Vec<(&str, usize, Option<CatalogProductStatus>, Catalog<'_>, ProductStep)> = vec![
        ("new", 3, None, Catalog::Unseen, ProductStep::Create),
        ("new without assets", 0, None, Catalog::Unseen, ProductStep::Empty),
        (
            "found after a lost answer",
            3,
            Some(entry(Some("dp1"), None, "h", None)),
            Catalog::Unseen,
            revise(Revision::Found),
        ),
        (
            "changed",
            3,
            Some(entry(Some("dp1"), Some("2"), "old", Some("ACTIVE"))),
            Catalog::Unseen,
            revise(Revision::Changed),
        ),
        (
            "made, not yet published",
            3,
            Some(entry(Some("dp1"), Some("2"), "h", None)),
            Catalog::Unseen,
            publish(Publication::New),
        ),
        ("steady, catalog not looked at", 3, Some(listed.clone()), Catalog::Unseen, ProductStep::Done),
        ("steady, the catalog agrees", 3, Some(listed.clone()), seen(&shows_2[..], after), ProductStep::Done),
        (
            "unpublished by a person",
            3,
            Some(listed.clone()),
            seen(&nothing[..], after),
            publish(Publication::Unpublished),
        ),
        (
            "another revision published by a person",
            3,
            Some(listed.clone()),
            seen(&shows_1[..], after),
            revise(Revision::EditedElsewhere { shown: "1".into() }),
        ),
        (
            "a view older than the publication says nothing",
            3,
            Some(listed.clone()),
            seen(&nothing[..], before),
            ProductStep::Done,
        ),
        (
            "a publication on its way (CREATING) is not made again",
            3,
            Some(entry(Some("dp1"), Some("2"), "h", Some("CREATING"))),
            Catalog::Unseen,
            ProductStep::Done,
        ),
    ];
    for (what, items, e, catalog, want) in cases {
        assert_eq!(step("h", items, e.as_ref(), catalog), want, "{what}");
    }
}

#[test]
fn tokens_repeat_for_a_retry_and_differ_for_new_work() {
    assert_eq!(create_token(UID, "orders", Some(1)), create_token(UID, "orders", Some(1)));
    assert_ne!(create_token(UID, "orders", Some(1)), create_token("uid-other", "orders", Some(1)));
    assert_ne!(create_token(UID, "orders", Some(1)), create_token(UID, "orders", Some(3)), "made again later");
    assert_ne!(revision_token(UID, "dp1", "h", "2"), revision_token(UID, "dp1", "h", "shown 3"), "a repair");
    let a = publish_token(UID, "dp1", "2", None);
    assert_eq!(a, publish_token(UID, "dp1", "2", None));
    assert_ne!(a, publish_token(UID, "dp1", "2", Some("2026-12-06T10:30:00Z")), "a republication");
    for t in [a, create_token(UID, "x", None), revision_token(UID, "dp1", "h", "2")] {
        assert!(t.len() <= 128, "DataZone's clientToken is 1–128: {t}");
    }
}

#[test]
fn plan_names_what_each_step_changes_with_the_item_diff() {
    let w = &wanted(&spec(json!({})), &owner(), &index())[0];
    let revise = ProductStep::Revise { id: "dp1".into(), why: Revision::Changed };
    let publish = ProductStep::Publish { id: "dp1".into(), revision: "2".into(), why: Publication::Unpublished };
    let cases = [
        (
            ProductStep::Create,
            vec![],
            ProductChange::Create {
                name: "orders".into(),
                items: strings(&["customers", "events", "orders", "v_orders"]),
            },
        ),
        (
            revise.clone(),
            strings(&["customers", "orders", "returns"]),
            ProductChange::Revise {
                name: "orders".into(),
                added: strings(&["events", "v_orders"]),
                removed: strings(&["returns"]),
            },
        ),
        (
            revise,
            strings(&["customers", "events", "orders", "v_orders"]),
            ProductChange::Revise { name: "orders".into(), added: vec![], removed: vec![] },
        ),
        (publish, vec![], ProductChange::Publish { name: "orders".into() }),
        (ProductStep::Done, vec![], ProductChange::Unchanged { name: "orders".into() }),
        (ProductStep::Empty, vec![], ProductChange::Empty { name: "orders".into() }),
    ];
    for (step, before, want) in cases {
        let got = change(&step, w, &before);
        assert_eq!(got.mutates(), !matches!(step, ProductStep::Done | ProductStep::Empty), "{step:?}");
        assert_eq!(got, want, "{step:?}");
    }
    assert!(ProductChange::Retire { name: "x".into(), delete: true }.mutates());
    assert!(!ProductChange::Retire { name: "x".into(), delete: false }.mutates(), "Retain changes nothing");
}

#[test]
fn a_view_is_read_only_for_publications_the_search_index_has_settled_in() {
    let resync = std::time::Duration::from_secs(600);
    assert_eq!(search_settles(resync), std::time::Duration::from_secs(60));
    assert_eq!(search_settles(std::time::Duration::from_secs(4)), std::time::Duration::from_millis(400));
    let trusted = trusted_before("2026-12-06T10:01:00Z", search_settles(resync));
    assert_eq!(trusted, "2026-12-06T10:00:00Z");
    let listed = entry(Some("dp1"), Some("2"), "h", Some("ACTIVE"));
    let nothing: [ProductListing; 0] = [];
    // Published at 10:00:00 (listed_at): a view taken 30 s later is not read, one taken 61 s later is.
    let early = trusted_before("2026-12-06T10:00:30Z", search_settles(resync));
    let late = trusted_before("2026-12-06T10:01:01Z", search_settles(resync));
    let unpublished = ProductStep::Publish { id: "dp1".into(), revision: "2".into(), why: Publication::Unpublished };
    assert_eq!(step("h", 3, Some(&listed), Catalog::Seen { listings: &nothing, taken: &early }), ProductStep::Done);
    assert_eq!(step("h", 3, Some(&listed), Catalog::Seen { listings: &nothing, taken: &late }), unpublished);
    assert_eq!(trusted_before("not a time", resync), "", "unreadable: trusted for nothing");
}

#[test]
fn a_taken_name_is_taken_on_when_ours_taken_over_when_adopted_and_left_otherwise() {
    let mine = Some(description(None, &owner()));
    let other_resource = Some(description(None, &Owner { namespace: "team-b", name: "orders", uid: "uid-b" }));
    let portal = Some("Orders, made in the portal".to_string());
    let one = |d: &Option<String>| vec![("dp1".to_string(), d.clone())];
    let cases = [
        ("ours after a lost answer", one(&mine), false, Claim::Ours("dp1".into())),
        ("ours, adopt or not", one(&mine), true, Claim::Ours("dp1".into())),
        ("a person's, not adopted", one(&portal), false, Claim::Taken),
        ("a person's, adopted", one(&portal), true, Claim::Adopted("dp1".into())),
        ("another resource's is never adopted", one(&other_resource), true, Claim::Taken),
        (
            "two of the name: which one is not ours to guess",
            vec![("a".into(), portal.clone()), ("b".into(), None)],
            true,
            Claim::Taken,
        ),
        ("none found (not yet in the search index)", vec![], true, Claim::Taken),
    ];
    for (what, found, adopt, want) in cases {
        assert_eq!(claim(&found, UID, adopt), want, "{what}");
    }
}
