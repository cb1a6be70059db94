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

/// The business metadata operations are in the model file, and what their answers can get wrong
/// is found: list lengths (GlossaryTerms has at least one item, an asset at most 10 forms),
/// string lengths (ListingName), the required members of Search's glossary items, and unions.
#[test]
fn business_metadata_answers_are_held_too() {
    let model = Model::load();
    for operation in [
        "CreateFormType",
        "GetFormType",
        "CreateGlossary",
        "GetGlossary",
        "UpdateGlossary",
        "CreateGlossaryTerm",
        "GetGlossaryTerm",
        "UpdateGlossaryTerm",
        "CreateAssetRevision",
        "CreateListingChangeSet",
        "GetListing",
        "StartMetadataGenerationRun",
        "GetMetadataGenerationRun",
    ] {
        let problems = model.check(operation, &json!({}));
        assert!(!problems.iter().any(|p| p.contains("not an operation")), "{problems:?}");
    }
    let form = json!({"formName": "f", "typeName": "T", "typeRevision": "1", "content": "{}"});
    let mut asset = json!({"id": "a1", "domainId": "dzd_1", "name": "orders", "revision": "2", "typeRevision": "1",
                           "typeIdentifier": "amazon.datazone.RedshiftTableAssetType", "owningProjectId": "p1",
                           "formsOutput": [form], "glossaryTerms": ["t1"], "createdAt": 1.7e9});
    assert!(model.check("GetAsset", &asset).is_empty(), "{:?}", model.check("GetAsset", &asset));
    asset["glossaryTerms"] = json!([]);
    asset["formsOutput"] = json!(vec![form; 11]);
    let problems = model.check("CreateAssetRevision", &asset);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems[0].starts_with("CreateAssetRevision.formsOutput: 11 is more than the maximum 10 items"));
    assert!(problems[1].starts_with("CreateAssetRevision.glossaryTerms: 0 is fewer than the minimum 1 items"));

    let term = json!({"domainId": "dzd_1", "glossaryId": "g1", "id": "t1", "name": "Order", "status": "ENABLED",
                      "createdAt": 1.7e9});
    let search = json!({"items": [{"glossaryTermItem": term},
                                  {"glossaryItem": {"domainId": "dzd_1", "id": "g1", "name": "Sales", "owningProjectId": "p1"}},
                                  {"glossaryItem": {}, "glossaryTermItem": term}]});
    let problems = model.check("Search", &search);
    assert_eq!(problems.len(), 7, "{problems:#?}");
    assert!(problems[0].starts_with("Search.items[1].glossaryItem.status: required"), "{problems:#?}");
    assert!(problems.iter().any(|p| p.starts_with("Search.items[2]: a union")), "{problems:#?}");

    let listing = json!({"domainId": "dzd_1", "id": "l1", "listingRevision": "1", "name": "x".repeat(65),
                         "status": "ACTIVE", "createdAt": 1.7e9,
                         "item": {"assetListing": {"assetId": "a1", "forms": "{}", "glossaryTerms": [{"name": "Order"}]}}});
    let problems = model.check("GetListing", &listing);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].starts_with("GetListing.name: 65 is more than the maximum 64 characters"), "{problems:#?}");
}

/// The data product operations (and DeleteAsset, SearchListings) are in the model file, and what
/// their answers can get wrong is found: an empty `items` (DataProductItems has at least one),
/// an unknown status, a ListingItem union with two members, a Search item without its project.
#[test]
fn data_product_answers_are_held_too() {
    let model = Model::load();
    for operation in [
        "CreateDataProduct",
        "CreateDataProductRevision",
        "GetDataProduct",
        "DeleteDataProduct",
        "ListDataProductRevisions",
        "DeleteAsset",
        "SearchListings",
    ] {
        let problems = model.check(operation, &json!({}));
        assert!(!problems.iter().any(|p| p.contains("not an operation")), "{problems:?}");
    }
    let item = json!({"itemType": "ASSET", "identifier": "a1", "glossaryTerms": ["t1"]});
    let mut product = json!({"domainId": "dzd_1", "id": "dp1", "revision": "1", "owningProjectId": "p1",
                             "name": "Orders", "status": "CREATED", "items": [item], "formsOutput": [],
                             "createdAt": 1.7e9, "firstRevisionCreatedAt": 1.7e9});
    assert!(model.check("CreateDataProduct", &product).is_empty(), "{:?}", model.check("CreateDataProduct", &product));
    product["items"] = json!([]);
    product["status"] = json!("PUBLISHED");
    let problems = model.check("GetDataProduct", &product);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems[0].starts_with("GetDataProduct.items: 0 is fewer than the minimum 1 items"), "{problems:#?}");
    assert!(problems[1].starts_with("GetDataProduct.status: not one of the enum's values"), "{problems:#?}");

    let listing = json!({"domainId": "dzd_1", "id": "l1", "listingRevision": "2", "status": "ACTIVE",
                         "item": {"dataProductListing": {"dataProductId": "dp1", "dataProductRevision": "2",
                                  "forms": "{}", "items": [{"listingId": "l2", "listingRevision": "1",
                                                            "glossaryTerms": [{"name": "Order"}]}]}}});
    assert!(model.check("GetListing", &listing).is_empty(), "{:?}", model.check("GetListing", &listing));
    let mut both = listing.clone();
    both["item"]["assetListing"] = json!({"assetId": "a1"});
    let problems = model.check("GetListing", &both);
    assert!(problems.len() == 1 && problems[0].starts_with("GetListing.item: a union"), "{problems:#?}");

    let search = json!({"items": [{"dataProductItem": {"domainId": "dzd_1", "id": "dp1", "name": "Orders"}}]});
    let problems = model.check("Search", &search);
    assert!(problems.len() == 1 && problems[0].contains("owningProjectId: required"), "{problems:#?}");
    let listings = json!({"items": [{"dataProductListing": {"listingId": "l1", "entityId": "dp1", "items": []}},
                                    {"assetListing": {"listingId": "l2", "entityType": "amazon.datazone.RedshiftTableAssetType"}}],
                          "totalMatchCount": 2});
    assert!(model.check("SearchListings", &listings).is_empty(), "{:?}", model.check("SearchListings", &listings));
    let revisions =
        json!({"items": [{"domainId": "dzd_1", "id": "dp1", "revision": "1", "createdAt": "2026-01-01T00:00:00Z"}]});
    let problems = model.check("ListDataProductRevisions", &revisions);
    assert!(problems.len() == 1 && problems[0].contains("createdAt: not epoch seconds"), "{problems:#?}");
}

/// The subscription operations are in the model file, and what their answers can get wrong is
/// found: a request with two subscribed listings (at most one), a SubscribedListing without its
/// required description, a grant status of the asset enum at the grant, a subscription whose
/// principal union has two members, a target without its required config.
#[test]
fn subscription_answers_are_held_too() {
    let model = Model::load();
    for operation in [
        "CreateSubscriptionRequest",
        "GetSubscriptionRequestDetails",
        "ListSubscriptionRequests",
        "AcceptSubscriptionRequest",
        "RejectSubscriptionRequest",
        "UpdateSubscriptionRequest",
        "DeleteSubscriptionRequest",
        "ListSubscriptions",
        "GetSubscription",
        "RevokeSubscription",
        "CancelSubscription",
        "ListSubscriptionTargets",
        "CreateSubscriptionTarget",
        "GetSubscriptionTarget",
        "ListSubscriptionGrants",
        "GetSubscriptionGrant",
    ] {
        let problems = model.check(operation, &json!({}));
        assert!(!problems.iter().any(|p| p.contains("not an operation")), "{operation}: {problems:?}");
    }
    let listing = json!({"id": "l1", "revision": "1", "name": "orders", "description": "", "ownerProjectId": "p1",
                         "item": {"assetListing": {"entityId": "a1", "entityRevision": "1",
                                                   "entityType": "amazon.datazone.RedshiftTableAssetType", "forms": "{}"}}});
    let principal = json!({"project": {"id": "p2", "name": "marketing"}});
    let request = json!({"id": "r1", "createdBy": "me", "domainId": "dzd_1", "status": "PENDING", "createdAt": 1.7e9,
                         "updatedAt": 1.7e9, "requestReason": "why", "subscribedPrincipals": [principal],
                         "subscribedListings": [listing]});
    assert!(
        model.check("CreateSubscriptionRequest", &request).is_empty(),
        "{:?}",
        model.check("CreateSubscriptionRequest", &request)
    );
    let mut two = request.clone();
    two["subscribedListings"] = json!([listing, listing]);
    two["subscribedListings"][1].as_object_mut().unwrap().remove("description");
    let problems = model.check("AcceptSubscriptionRequest", &two);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems[0].starts_with("AcceptSubscriptionRequest.subscribedListings: 2 is more than the maximum 1 items"),
        "{problems:#?}"
    );
    assert!(problems[1].contains("subscribedListings[1].description: required"), "{problems:#?}");

    let mut subscription = json!({"id": "s1", "createdBy": "me", "domainId": "dzd_1", "status": "APPROVED",
                                  "createdAt": 1.7e9, "updatedAt": 1.7e9, "subscribedPrincipal": principal,
                                  "subscribedListing": listing, "subscriptionRequestId": "r1"});
    assert!(
        model.check("GetSubscription", &subscription).is_empty(),
        "{:?}",
        model.check("GetSubscription", &subscription)
    );
    subscription["subscribedPrincipal"]["user"] = json!({"id": "u1"});
    let problems = model.check("CancelSubscription", &subscription);
    assert!(
        problems.len() == 1 && problems[0].starts_with("CancelSubscription.subscribedPrincipal: a union"),
        "{problems:#?}"
    );

    let grant = json!({"id": "g1", "createdBy": "me", "domainId": "dzd_1", "createdAt": 1.7e9, "updatedAt": 1.7e9,
                       "subscriptionTargetId": "t1", "grantedEntity": {"listing": {"id": "l1", "revision": "1"}},
                       "status": "GRANTED", "assets": [{"assetId": "a1", "assetRevision": "1", "status": "GRANTED"}]});
    let problems = model.check("GetSubscriptionGrant", &grant);
    assert!(
        problems.len() == 1 && problems[0].starts_with("GetSubscriptionGrant.status: not one of the enum's values"),
        "{problems:#?}"
    );

    let target = json!({"items": [{"id": "t1", "authorizedPrincipals": ["p"], "domainId": "dzd_1", "projectId": "p1",
                                   "environmentId": "e1", "name": "n", "type": "RedshiftSubscriptionTargetType",
                                   "createdBy": "me", "createdAt": 1.7e9, "applicableAssetTypes": [], "provider": "Amazon DataZone"}]});
    let problems = model.check("ListSubscriptionTargets", &target);
    assert!(problems.len() == 1 && problems[0].contains("subscriptionTargetConfig: required"), "{problems:#?}");
}
