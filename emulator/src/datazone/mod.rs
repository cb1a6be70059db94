//! Amazon DataZone over restJson1: routing by method and path to the handlers of each resource
//! kind, and the time-driven changes ([`advance`]). What handlers share is in [`request`].

pub mod assets;
pub mod blueprints;
pub mod connections;
pub mod data_products;
pub mod data_sources;
pub mod domains;
pub mod environments;
pub mod form_types;
pub mod forms;
pub mod glossaries;
pub mod listings;
pub mod metadata_generation;
pub mod quotas;
pub mod request;
pub mod runs;
pub mod search;
pub mod smithy;
pub mod subscription_grants;
pub mod subscription_requests;
pub mod subscription_targets;
pub mod subscriptions;

use crate::clock::Instant;
use crate::state::{Due, State};

use request::{Handler, percent_decode};

/// Applies every time-driven change due by `now` (an environment settling, a run finishing, a
/// subscription grant's next step);
/// called at the start of every request, so no background task races the handlers.
pub fn advance(state: &mut State, now: Instant) {
    while let Some((at, what)) = state.next_due(now) {
        match what {
            Due::EnvironmentSettles(id) => environments::settle(state, &id, at),
            Due::RunFinishes(id) => runs::finish(state, &id, at),
            Due::MetadataGenerationFinishes(id) => metadata_generation::finish(state, &id, at),
            Due::GrantProgresses(id, generation) => subscription_grants::progress(state, &id, generation, at),
        }
    }
}

/// The operation a method and path name, with its path parameters.
pub fn route(method: &str, path: &str) -> Option<(&'static str, Handler, Vec<String>)> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let p = |i: usize| segments.get(i).map(|s| percent_decode(s)).unwrap_or_default();
    let (op, handler, params): (&'static str, Handler, Vec<String>) = match (method, segments.as_slice()) {
        ("GET", ["v2", "domains"]) => ("ListDomains", domains::list_domains, vec![]),
        ("POST", ["v2", "domains"]) => ("CreateDomain", domains::create_domain, vec![]),
        ("GET", ["v2", "domains", _]) => ("GetDomain", domains::get_domain, vec![p(2)]),
        ("GET", ["v2", "domains", _, "projects"]) => ("ListProjects", domains::list_projects, vec![p(2)]),
        ("POST", ["v2", "domains", _, "projects"]) => ("CreateProject", domains::create_project, vec![p(2)]),
        ("GET", ["v2", "domains", _, "projects", _]) => ("GetProject", domains::get_project, vec![p(2), p(4)]),
        ("POST", ["v2", "domains", _, "projects", _, "createMembership"]) => {
            ("CreateProjectMembership", domains::create_project_membership, vec![p(2), p(4)])
        }
        ("GET", ["v2", "domains", _, "projects", _, "memberships"]) => {
            ("ListProjectMemberships", domains::list_project_memberships, vec![p(2), p(4)])
        }
        ("GET", ["v2", "domains", _, "environment-blueprints"]) => {
            ("ListEnvironmentBlueprints", blueprints::list_blueprints, vec![p(2)])
        }
        ("GET", ["v2", "domains", _, "environment-blueprints", _]) => {
            ("GetEnvironmentBlueprint", blueprints::get_blueprint, vec![p(2), p(4)])
        }
        ("GET", ["v2", "domains", _, "environment-blueprint-configurations"]) => {
            ("ListEnvironmentBlueprintConfigurations", blueprints::list_configurations, vec![p(2)])
        }
        ("GET", ["v2", "domains", _, "environment-blueprint-configurations", _]) => {
            ("GetEnvironmentBlueprintConfiguration", blueprints::get_configuration, vec![p(2), p(4)])
        }
        ("PUT", ["v2", "domains", _, "environment-blueprint-configurations", _]) => {
            ("PutEnvironmentBlueprintConfiguration", blueprints::put_configuration, vec![p(2), p(4)])
        }
        ("GET", ["v2", "domains", _, "environment-profiles"]) => {
            ("ListEnvironmentProfiles", environments::list_profiles, vec![p(2)])
        }
        ("POST", ["v2", "domains", _, "environment-profiles"]) => {
            ("CreateEnvironmentProfile", environments::create_profile, vec![p(2)])
        }
        ("GET", ["v2", "domains", _, "environment-profiles", _]) => {
            ("GetEnvironmentProfile", environments::get_profile, vec![p(2), p(4)])
        }
        ("DELETE", ["v2", "domains", _, "environment-profiles", _]) => {
            ("DeleteEnvironmentProfile", environments::delete_profile, vec![p(2), p(4)])
        }
        ("GET", ["v2", "domains", _, "environments"]) => {
            ("ListEnvironments", environments::list_environments, vec![p(2)])
        }
        ("POST", ["v2", "domains", _, "environments"]) => {
            ("CreateEnvironment", environments::create_environment, vec![p(2)])
        }
        ("GET", ["v2", "domains", _, "environments", _]) => {
            ("GetEnvironment", environments::get_environment, vec![p(2), p(4)])
        }
        ("DELETE", ["v2", "domains", _, "environments", _]) => {
            ("DeleteEnvironment", environments::delete_environment, vec![p(2), p(4)])
        }
        ("GET", ["v2", "domains", _, "data-sources"]) => ("ListDataSources", data_sources::list, vec![p(2)]),
        ("POST", ["v2", "domains", _, "data-sources"]) => ("CreateDataSource", data_sources::create, vec![p(2)]),
        ("GET", ["v2", "domains", _, "data-sources", _]) => ("GetDataSource", data_sources::get, vec![p(2), p(4)]),
        ("PATCH", ["v2", "domains", _, "data-sources", _]) => {
            ("UpdateDataSource", data_sources::update, vec![p(2), p(4)])
        }
        ("DELETE", ["v2", "domains", _, "data-sources", _]) => {
            ("DeleteDataSource", data_sources::delete, vec![p(2), p(4)])
        }
        ("POST", ["v2", "domains", _, "data-sources", _, "runs"]) => {
            ("StartDataSourceRun", runs::start, vec![p(2), p(4)])
        }
        ("GET", ["v2", "domains", _, "data-sources", _, "runs"]) => {
            ("ListDataSourceRuns", runs::list, vec![p(2), p(4)])
        }
        ("GET", ["v2", "domains", _, "data-source-runs", _]) => ("GetDataSourceRun", runs::get, vec![p(2), p(4)]),
        ("GET", ["v2", "domains", _, "data-source-runs", _, "activities"]) => {
            ("ListDataSourceRunActivities", runs::list_activities, vec![p(2), p(4)])
        }
        ("GET", ["v2", "domains", _, "connections"]) => ("ListConnections", connections::list, vec![p(2)]),
        ("POST", ["v2", "domains", _, "connections"]) => ("CreateConnection", connections::create, vec![p(2)]),
        ("GET", ["v2", "domains", _, "connections", _]) => ("GetConnection", connections::get, vec![p(2), p(4)]),
        ("PATCH", ["v2", "domains", _, "connections", _]) => {
            ("UpdateConnection", connections::update, vec![p(2), p(4)])
        }
        ("DELETE", ["v2", "domains", _, "connections", _]) => {
            ("DeleteConnection", connections::delete, vec![p(2), p(4)])
        }
        ("POST", ["v2", "domains", _, "search"]) => ("Search", search::search, vec![p(2)]),
        ("GET", ["v2", "domains", _, "assets", _]) => ("GetAsset", assets::get_asset, vec![p(2), p(4)]),
        ("POST", ["v2", "domains", _, "assets", _, "revisions"]) => {
            ("CreateAssetRevision", assets::create_revision, vec![p(2), p(4)])
        }
        ("DELETE", ["v2", "domains", _, "assets", _]) => ("DeleteAsset", assets::delete_asset, vec![p(2), p(4)]),
        ("POST", ["v2", "domains", _, "data-products"]) => ("CreateDataProduct", data_products::create, vec![p(2)]),
        ("GET", ["v2", "domains", _, "data-products", _]) => ("GetDataProduct", data_products::get, vec![p(2), p(4)]),
        ("DELETE", ["v2", "domains", _, "data-products", _]) => {
            ("DeleteDataProduct", data_products::delete, vec![p(2), p(4)])
        }
        ("POST", ["v2", "domains", _, "data-products", _, "revisions"]) => {
            ("CreateDataProductRevision", data_products::create_revision, vec![p(2), p(4)])
        }
        ("GET", ["v2", "domains", _, "data-products", _, "revisions"]) => {
            ("ListDataProductRevisions", data_products::list_revisions, vec![p(2), p(4)])
        }
        ("POST", ["v2", "domains", _, "form-types"]) => ("CreateFormType", form_types::create, vec![p(2)]),
        ("GET", ["v2", "domains", _, "form-types", _]) => ("GetFormType", form_types::get, vec![p(2), p(4)]),
        ("POST", ["v2", "domains", _, "glossaries"]) => ("CreateGlossary", glossaries::create_glossary, vec![p(2)]),
        ("GET", ["v2", "domains", _, "glossaries", _]) => ("GetGlossary", glossaries::get_glossary, vec![p(2), p(4)]),
        ("PATCH", ["v2", "domains", _, "glossaries", _]) => {
            ("UpdateGlossary", glossaries::update_glossary, vec![p(2), p(4)])
        }
        ("POST", ["v2", "domains", _, "glossary-terms"]) => ("CreateGlossaryTerm", glossaries::create_term, vec![p(2)]),
        ("GET", ["v2", "domains", _, "glossary-terms", _]) => {
            ("GetGlossaryTerm", glossaries::get_term, vec![p(2), p(4)])
        }
        ("PATCH", ["v2", "domains", _, "glossary-terms", _]) => {
            ("UpdateGlossaryTerm", glossaries::update_term, vec![p(2), p(4)])
        }
        ("POST", ["v2", "domains", _, "listings", "change-set"]) => {
            ("CreateListingChangeSet", listings::change_set, vec![p(2)])
        }
        ("GET", ["v2", "domains", _, "listings", _]) => ("GetListing", listings::get, vec![p(2), p(4)]),
        ("POST", ["v2", "domains", _, "listings", "search"]) => ("SearchListings", search::search_listings, vec![p(2)]),
        ("POST", ["v2", "domains", _, "subscription-requests"]) => {
            ("CreateSubscriptionRequest", subscription_requests::create, vec![p(2)])
        }
        ("GET", ["v2", "domains", _, "subscription-requests"]) => {
            ("ListSubscriptionRequests", subscription_requests::list, vec![p(2)])
        }
        ("GET", ["v2", "domains", _, "subscription-requests", _]) => {
            ("GetSubscriptionRequestDetails", subscription_requests::get, vec![p(2), p(4)])
        }
        ("PATCH", ["v2", "domains", _, "subscription-requests", _]) => {
            ("UpdateSubscriptionRequest", subscription_requests::update, vec![p(2), p(4)])
        }
        ("DELETE", ["v2", "domains", _, "subscription-requests", _]) => {
            ("DeleteSubscriptionRequest", subscription_requests::delete, vec![p(2), p(4)])
        }
        ("PUT", ["v2", "domains", _, "subscription-requests", _, "accept"]) => {
            ("AcceptSubscriptionRequest", subscription_requests::accept, vec![p(2), p(4)])
        }
        ("PUT", ["v2", "domains", _, "subscription-requests", _, "reject"]) => {
            ("RejectSubscriptionRequest", subscription_requests::reject, vec![p(2), p(4)])
        }
        ("GET", ["v2", "domains", _, "subscriptions"]) => ("ListSubscriptions", subscriptions::list, vec![p(2)]),
        ("GET", ["v2", "domains", _, "subscriptions", _]) => ("GetSubscription", subscriptions::get, vec![p(2), p(4)]),
        ("PUT", ["v2", "domains", _, "subscriptions", _, "revoke"]) => {
            ("RevokeSubscription", subscriptions::revoke, vec![p(2), p(4)])
        }
        ("PUT", ["v2", "domains", _, "subscriptions", _, "cancel"]) => {
            ("CancelSubscription", subscriptions::cancel, vec![p(2), p(4)])
        }
        ("GET", ["v2", "domains", _, "environments", _, "subscription-targets"]) => {
            ("ListSubscriptionTargets", subscription_targets::list, vec![p(2), p(4)])
        }
        ("POST", ["v2", "domains", _, "environments", _, "subscription-targets"]) => {
            ("CreateSubscriptionTarget", subscription_targets::create, vec![p(2), p(4)])
        }
        ("GET", ["v2", "domains", _, "environments", _, "subscription-targets", _]) => {
            ("GetSubscriptionTarget", subscription_targets::get, vec![p(2), p(4), p(6)])
        }
        ("GET", ["v2", "domains", _, "subscription-grants"]) => {
            ("ListSubscriptionGrants", subscription_grants::list, vec![p(2)])
        }
        ("GET", ["v2", "domains", _, "subscription-grants", _]) => {
            ("GetSubscriptionGrant", subscription_grants::get, vec![p(2), p(4)])
        }
        ("POST", ["v2", "domains", _, "metadata-generation-runs"]) => {
            ("StartMetadataGenerationRun", metadata_generation::start, vec![p(2)])
        }
        ("GET", ["v2", "domains", _, "metadata-generation-runs", _]) => {
            ("GetMetadataGenerationRun", metadata_generation::get, vec![p(2), p(4)])
        }
        _ => return None,
    };
    Some((op, handler, params))
}

#[cfg(test)]
mod tests {
    use super::request::*;
    use super::*;

    #[test]
    fn routes_every_operation() {
        let cases = [
            ("GET", "/v2/domains", "ListDomains"),
            ("GET", "/v2/domains/dzd_1/projects/p1/memberships", "ListProjectMemberships"),
            (
                "PUT",
                "/v2/domains/dzd_1/environment-blueprint-configurations/bp",
                "PutEnvironmentBlueprintConfiguration",
            ),
            ("PATCH", "/v2/domains/dzd_1/data-sources/ds1", "UpdateDataSource"),
            ("POST", "/v2/domains/dzd_1/data-sources/ds1/runs", "StartDataSourceRun"),
            ("GET", "/v2/domains/dzd_1/data-source-runs/r1/activities", "ListDataSourceRunActivities"),
            ("POST", "/v2/domains/dzd_1/search", "Search"),
            ("POST", "/v2/domains/dzd_1/connections", "CreateConnection"),
            ("GET", "/v2/domains/dzd_1/connections", "ListConnections"),
            ("GET", "/v2/domains/dzd_1/connections/c1", "GetConnection"),
            ("PATCH", "/v2/domains/dzd_1/connections/c1", "UpdateConnection"),
            ("DELETE", "/v2/domains/dzd_1/connections/c1", "DeleteConnection"),
            ("POST", "/v2/domains/dzd_1/form-types", "CreateFormType"),
            ("GET", "/v2/domains/dzd_1/form-types/amazon.datazone.RedshiftTableFormType", "GetFormType"),
            ("POST", "/v2/domains/dzd_1/glossaries", "CreateGlossary"),
            ("GET", "/v2/domains/dzd_1/glossaries/g1", "GetGlossary"),
            ("PATCH", "/v2/domains/dzd_1/glossaries/g1", "UpdateGlossary"),
            ("POST", "/v2/domains/dzd_1/glossary-terms", "CreateGlossaryTerm"),
            ("GET", "/v2/domains/dzd_1/glossary-terms/t1", "GetGlossaryTerm"),
            ("PATCH", "/v2/domains/dzd_1/glossary-terms/t1", "UpdateGlossaryTerm"),
            ("POST", "/v2/domains/dzd_1/assets/a1/revisions", "CreateAssetRevision"),
            ("POST", "/v2/domains/dzd_1/listings/change-set", "CreateListingChangeSet"),
            ("GET", "/v2/domains/dzd_1/listings/l1", "GetListing"),
            ("POST", "/v2/domains/dzd_1/listings/search", "SearchListings"),
            ("DELETE", "/v2/domains/dzd_1/assets/a1", "DeleteAsset"),
            ("POST", "/v2/domains/dzd_1/data-products", "CreateDataProduct"),
            ("GET", "/v2/domains/dzd_1/data-products/dp1", "GetDataProduct"),
            ("DELETE", "/v2/domains/dzd_1/data-products/dp1", "DeleteDataProduct"),
            ("POST", "/v2/domains/dzd_1/data-products/dp1/revisions", "CreateDataProductRevision"),
            ("GET", "/v2/domains/dzd_1/data-products/dp1/revisions", "ListDataProductRevisions"),
            ("POST", "/v2/domains/dzd_1/metadata-generation-runs", "StartMetadataGenerationRun"),
            ("GET", "/v2/domains/dzd_1/metadata-generation-runs/m1", "GetMetadataGenerationRun"),
            ("POST", "/v2/domains/dzd_1/subscription-requests", "CreateSubscriptionRequest"),
            ("GET", "/v2/domains/dzd_1/subscription-requests", "ListSubscriptionRequests"),
            ("GET", "/v2/domains/dzd_1/subscription-requests/r1", "GetSubscriptionRequestDetails"),
            ("PATCH", "/v2/domains/dzd_1/subscription-requests/r1", "UpdateSubscriptionRequest"),
            ("DELETE", "/v2/domains/dzd_1/subscription-requests/r1", "DeleteSubscriptionRequest"),
            ("PUT", "/v2/domains/dzd_1/subscription-requests/r1/accept", "AcceptSubscriptionRequest"),
            ("PUT", "/v2/domains/dzd_1/subscription-requests/r1/reject", "RejectSubscriptionRequest"),
            ("GET", "/v2/domains/dzd_1/subscriptions", "ListSubscriptions"),
            ("GET", "/v2/domains/dzd_1/subscriptions/s1", "GetSubscription"),
            ("PUT", "/v2/domains/dzd_1/subscriptions/s1/revoke", "RevokeSubscription"),
            ("PUT", "/v2/domains/dzd_1/subscriptions/s1/cancel", "CancelSubscription"),
            ("GET", "/v2/domains/dzd_1/environments/e1/subscription-targets", "ListSubscriptionTargets"),
            ("POST", "/v2/domains/dzd_1/environments/e1/subscription-targets", "CreateSubscriptionTarget"),
            ("GET", "/v2/domains/dzd_1/environments/e1/subscription-targets/t1", "GetSubscriptionTarget"),
            ("GET", "/v2/domains/dzd_1/subscription-grants", "ListSubscriptionGrants"),
            ("GET", "/v2/domains/dzd_1/subscription-grants/g1", "GetSubscriptionGrant"),
        ];
        for (method, path, op) in cases {
            assert_eq!(route(method, path).map(|r| r.0), Some(op), "{method} {path}");
        }
        assert!(route("DELETE", "/v2/domains").is_none());
        assert_eq!(route("GET", "/v2/domains/dzd_1/assets/a%2Fb").unwrap().2, ["dzd_1", "a/b"]);
    }

    #[test]
    fn tokens_only_fit_their_listing() {
        let (first, token) = page_with((0..7).collect(), None, 3, "a").unwrap();
        assert_eq!(first, [0, 1, 2]);
        let token = token.unwrap();
        let (second, token2) = page_with((0..7).collect(), Some(&token), 3, "a").unwrap();
        assert_eq!(second, [3, 4, 5]);
        let (last, none) = page_with((0..7).collect(), token2.as_deref(), 3, "a").unwrap();
        assert_eq!((last, none), (vec![6], None));
        assert!(page_with((0..7).collect::<Vec<i32>>(), Some(&token), 3, "b").is_err());
        assert!(page_with((0..7).collect::<Vec<i32>>(), Some("zz"), 3, "a").is_err());
    }
}
