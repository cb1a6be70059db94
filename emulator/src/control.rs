//! The control API under `/_emulator/` (plain JSON, unsigned): health, state, call counts,
//! faults, reset, the Redshift catalog, and identity registrations (OIDC providers, web identity
//! trust, Pod Identity associations; see `identity`).

use serde_json::{Value, json};

use crate::fixture::{Fixture, RedshiftFixture};
use crate::identity::Registration;
use crate::shared::Shared;
use crate::state::State;

/// Answers a control request: (status, JSON body).
pub fn handle(shared: &Shared, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
    let now = crate::clock::Instant::now();
    match (method, path.trim_end_matches('/')) {
        ("GET", "/_emulator/health") => (200, json!({"status": "ok"})),
        ("GET", "/_emulator/state") => {
            let mut state = shared.lock_state();
            crate::datazone::advance(&mut state, now);
            (200, dump(&state))
        }
        ("GET", "/_emulator/calls") => {
            let calls = shared.calls.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut out: serde_json::Map<String, Value> = calls.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            out.insert("total".into(), json!(calls.values().sum::<u64>()));
            (200, Value::Object(out))
        }
        ("DELETE", "/_emulator/calls") => {
            shared.calls.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
            (200, json!({"calls": "cleared"}))
        }
        ("GET", "/_emulator/faults") => {
            let faults = shared.faults.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            (200, json!({"faults": faults.rules}))
        }
        ("POST", "/_emulator/faults") => match serde_json::from_slice::<crate::faults::FaultRule>(body) {
            Ok(rule) => match rule.check() {
                Ok(()) => {
                    shared.faults.lock().unwrap_or_else(std::sync::PoisonError::into_inner).rules.push(rule.clone());
                    (201, json!({"fault": rule}))
                }
                Err(problem) => (400, json!({"message": problem})),
            },
            Err(e) => (400, json!({"message": format!("invalid fault: {e}")})),
        },
        ("DELETE", "/_emulator/faults") => {
            shared.faults.lock().unwrap_or_else(std::sync::PoisonError::into_inner).rules.clear();
            (200, json!({"faults": []}))
        }
        ("POST", "/_emulator/reset") => {
            shared.reset();
            (200, json!({"reset": true}))
        }
        ("PUT", "/_emulator/catalog") => match serde_json::from_slice::<Vec<RedshiftFixture>>(body) {
            Ok(catalog) => {
                let check = Fixture { redshift: catalog.clone(), ..Fixture::default() };
                match check.validate() {
                    Ok(()) => {
                        shared.lock_state().catalog = catalog;
                        (200, json!({"catalog": "replaced"}))
                    }
                    Err((at, problem)) => (400, json!({"message": format!("{at}: {problem}")})),
                }
            }
            Err(e) => (400, json!({"message": format!("invalid catalog: {e}")})),
        },
        ("GET", "/_emulator/oidc-providers") => {
            (200, json!({"oidcProviders": crate::identity::dump(&shared.lock_state())["oidcProviders"]}))
        }
        ("POST", "/_emulator/oidc-providers") => register(shared, body, |b| {
            let issuer = b.get("issuer").and_then(Value::as_str).ok_or("issuer: a string is required")?;
            let jwks = b.get("jwks").ok_or("jwks: a JWK Set object is required")?;
            Registration::oidc_provider(issuer, jwks)
        }),
        ("GET", "/_emulator/web-identity-trusts") => {
            (200, json!({"webIdentityTrusts": crate::identity::dump(&shared.lock_state())["webIdentityTrusts"]}))
        }
        ("POST", "/_emulator/web-identity-trusts") => register(shared, body, |b| {
            let role = b.get("roleArn").and_then(Value::as_str).ok_or("roleArn: a string is required")?;
            let subject = b.get("subject").and_then(Value::as_str).ok_or("subject: a string is required")?;
            Registration::web_identity_trust(role, subject)
        }),
        ("GET", "/_emulator/pod-identity-associations") => (
            200,
            json!({"podIdentityAssociations": crate::identity::dump(&shared.lock_state())["podIdentityAssociations"]}),
        ),
        ("POST", "/_emulator/pod-identity-associations") => register(shared, body, |b| {
            let text = |key: &str| b.get(key).and_then(Value::as_str).ok_or(format!("{key}: a string is required"));
            Registration::pod_identity(text("namespace")?, text("serviceAccount")?, text("roleArn")?)
        }),
        _ => (404, json!({"message": format!("no control endpoint {method} {path}")})),
    }
}

/// Registers what `make` builds from the JSON body: 201 with the body echoed, or 400 naming the
/// problem.
fn register(shared: &Shared, body: &[u8], make: impl FnOnce(&Value) -> Result<Registration, String>) -> (u16, Value) {
    let parsed: Value = match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => v,
        _ => return (400, json!({"message": "the body must be a JSON object"})),
    };
    match make(&parsed) {
        Ok(registration) => {
            shared.register(registration);
            (201, parsed)
        }
        Err(problem) => (400, json!({"message": problem})),
    }
}

/// Every object by kind, for tests and for people looking at a demo.
pub fn dump(state: &State) -> Value {
    let domains: Vec<Value> = state
        .domains
        .values()
        .map(|d| json!({"id": d.id, "name": d.name, "accountId": d.account, "region": d.region,
                        "domainVersion": d.version.as_str(), "rootDomainUnitId": d.root_domain_unit_id,
                        "associatedAccounts": d.associated,
                        "blueprints": d.blueprints.iter().map(|b| json!({"id": b.id, "name": b.name})).collect::<Vec<_>>(),
                        "blueprintConfigurations": d.blueprint_configs.iter().map(|((bp, account), c)| json!({
                            "environmentBlueprintId": bp, "accountId": account, "enabledRegions": c.enabled_regions,
                            "provisioningRoleArn": c.provisioning_role_arn, "manageAccessRoleArn": c.manage_access_role_arn,
                        })).collect::<Vec<_>>()}))
        .collect();
    let projects: Vec<Value> = state
        .domains
        .values()
        .flat_map(|d| {
            d.projects.values().map(move |p| {
                json!({"domainId": d.id, "id": p.id, "name": p.name, "members": p.members,
                                     "projectProfileId": d.project_profiles.get(&p.id)})
            })
        })
        .collect();
    let profiles: Vec<Value> = state
        .profiles
        .values()
        .map(|p| json!({"id": p.id, "domainId": p.domain_id, "projectId": p.project_id, "name": p.name,
                        "environmentBlueprintId": p.blueprint_id, "awsAccountId": p.account, "awsAccountRegion": p.region}))
        .collect();
    let environments: Vec<Value> = state
        .environments
        .values()
        .map(|e| json!({"id": e.id, "domainId": e.domain_id, "projectId": e.project_id, "name": e.name,
                        "environmentProfileId": e.profile_id, "status": e.status, "awsAccountId": e.account,
                        "awsAccountRegion": e.region, "failureReason": e.failure,
                        "userParameters": e.user_parameters.iter().map(|(k, v)| json!({"name": k, "value": v})).collect::<Vec<_>>()}))
        .collect();
    let connections: Vec<Value> = state
        .connections
        .values()
        .map(|c| {
            let root = state.domains.get(&c.domain_id).map(|d| d.root_domain_unit_id.as_str()).unwrap_or_default();
            crate::datazone::connections::connection_json(c, root, false)
        })
        .collect();
    let data_sources: Vec<Value> = state
        .data_sources
        .values()
        .map(|ds| crate::datazone::data_sources::data_source_json(ds, state, crate::datazone::data_sources::Shape::Get))
        .collect();
    let runs: Vec<Value> = state
        .runs
        .values()
        .map(|r| json!({"id": r.id, "dataSourceId": r.data_source_id, "projectId": r.project_id, "status": r.status,
                        "statistics": {"added": r.statistics.added, "updated": r.statistics.updated, "unchanged": r.statistics.unchanged,
                                       "skipped": r.statistics.skipped, "failed": r.statistics.failed},
                        "activities": r.activities.len()}))
        .collect();
    let assets: Vec<Value> = state
        .assets
        .values()
        .map(|a| {
            let listing = a.listing.as_ref().and_then(|id| state.listings.get(id));
            json!({"id": a.id, "domainId": a.domain_id, "projectId": a.project_id, "dataSourceId": a.data_source_id,
                        "name": a.name, "database": a.database, "schema": a.schema,
                        "kind": if a.is_view { "VIEW" } else { "TABLE" }, "typeIdentifier": a.type_identifier(),
                        "published": listing.is_some_and(|l| l.status == "ACTIVE"), "externalIdentifier": a.external_identifier,
                        "revision": a.latest().number.to_string(), "listingId": a.listing,
                        "glossaryTerms": a.latest().glossary_terms,
                        "forms": a.latest().forms.iter().map(|f| f.name.as_str()).collect::<Vec<_>>()})
        })
        .collect();
    let form_types: Vec<Value> = state
        .form_types
        .values()
        .map(|f| {
            json!({"domainId": f.domain_id, "name": f.name, "owningProjectId": f.project_id,
                        "revision": f.revisions.len().to_string()})
        })
        .collect();
    let glossaries: Vec<Value> = state
        .glossaries
        .values()
        .map(|g| crate::datazone::glossaries::glossary_json(g, crate::datazone::glossaries::Shape::Read))
        .collect();
    let terms: Vec<Value> = state
        .glossary_terms
        .values()
        .map(|t| crate::datazone::glossaries::term_json(t, None, crate::datazone::glossaries::Shape::Read))
        .collect();
    // An asset listing keys its asset as `assetId` and each revision's as `assetRevision`; a data
    // product listing `dataProductId`, `dataProductRevision` and the asset listings it reaches.
    let listings: Vec<Value> = state
        .listings
        .values()
        .map(|l| {
            let (entity_key, revision_key) =
                if l.asset_id().is_some() { ("assetId", "assetRevision") } else { ("dataProductId", "dataProductRevision") };
            let revisions: Vec<Value> = l
                .revisions
                .iter()
                .map(|r| {
                    let mut v = json!({"listingRevision": r.number.to_string(), revision_key: r.entity_revision.to_string()});
                    if l.data_product_id().is_some() {
                        v["items"] = r.items.iter().map(|i| json!({"listingId": i.listing_id,
                                                                   "listingRevision": i.listing_revision.to_string()})).collect();
                    }
                    v
                })
                .collect();
            let entity = l.asset_id().or(l.data_product_id());
            let mut v = json!({"id": l.id, "domainId": l.domain_id, entity_key: entity, "status": l.status, "revisions": revisions});
            if l.asset_id().is_some() {
                v["publishedOnItsOwn"] = json!(l.own == crate::state::OwnPublication::Published);
                v["throughDataProducts"] = json!(l.through);
            }
            v
        })
        .collect();
    let data_products: Vec<Value> = state
        .data_products
        .values()
        .map(|p| {
            let latest = p.latest();
            let listing = p.listing.as_ref().and_then(|id| state.listings.get(id));
            json!({"id": p.id, "domainId": p.domain_id, "projectId": p.project_id, "name": latest.name,
                   "revision": latest.number.to_string(), "listingId": p.listing,
                   "published": listing.is_some_and(|l| l.status == "ACTIVE"),
                   "items": latest.items.iter().map(|i| i.asset_id.as_str()).collect::<Vec<_>>()})
        })
        .collect();
    let generation_runs: Vec<Value> = state
        .metadata_runs
        .values()
        .map(|r| json!({"id": r.id, "domainId": r.domain_id, "assetId": r.asset_id, "types": r.types, "status": r.status}))
        .collect();
    let requests: Vec<Value> = state
        .subscription_requests
        .values()
        .map(|r| {
            json!({"id": r.id, "domainId": r.domain_id, "status": r.status, "projectId": r.project_id,
                        "listingId": r.listing_id, "listingRevision": r.listing_revision.to_string(),
                        "approverProjectId": r.approver_project_id, "decisionComment": r.decision_comment})
        })
        .collect();
    let subscriptions: Vec<Value> = state
        .subscriptions
        .values()
        .map(|s| {
            json!({"id": s.id, "domainId": s.domain_id, "status": s.status, "projectId": s.project_id,
                        "listingId": s.listing_id, "listingRevision": s.listing_revision.to_string(),
                        "approverProjectId": s.approver_project_id, "subscriptionRequestId": s.request_id,
                        "retainPermissions": s.retain_permissions})
        })
        .collect();
    let targets: Vec<Value> = state
        .environments
        .values()
        .flat_map(|e| crate::datazone::subscription_targets::targets_in(state, e))
        .map(|t| {
            json!({"id": t.id, "domainId": t.domain_id, "projectId": t.project_id,
                        "environmentId": t.environment_id, "name": t.name, "type": t.type_,
                        "applicableAssetTypes": t.applicable_asset_types,
                        "subscriptionGrantCreationMode": t.grant_creation_mode})
        })
        .collect();
    let grants: Vec<Value> = state
        .subscription_grants
        .values()
        .map(|g| json!({"id": g.id, "domainId": g.domain_id, "status": g.status, "subscriptionId": g.subscription_id,
                        "subscriptionTargetId": g.target_id, "environmentId": g.environment_id,
                        "projectId": g.project_id, "listingId": g.listing_id,
                        "assets": g.assets.iter().map(|a| json!({"assetId": a.asset_id, "status": a.status})).collect::<Vec<_>>()}))
        .collect();
    json!({
        "domains": domains, "projects": projects, "environmentProfiles": profiles, "environments": environments,
        "connections": connections, "dataSources": data_sources, "dataSourceRuns": runs, "assets": assets,
        "formTypes": form_types, "glossaries": glossaries, "glossaryTerms": terms, "dataProducts": data_products,
        "listings": listings,
        "metadataGenerationRuns": generation_runs,
        "subscriptionRequests": requests, "subscriptions": subscriptions, "subscriptionTargets": targets,
        "subscriptionGrants": grants,
    })
}
