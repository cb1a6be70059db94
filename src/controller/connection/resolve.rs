//! Resolving a connection: the object a data product names, whether its namespace may use it,
//! whether its role can be assumed and its domain found. Shared by the data product reconcile
//! and the connection controllers (which report it in the connection's status).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::controller::context::Context;
use crate::controller::decide::pass::{Blocked, Phase};
use crate::controller::fleet::keys::Lookup;
use crate::controller::fleet::watched::Watched;
use crate::crd::{
    ConnectionKind, ConnectionRef, ConnectionSettings, LabelSelector, RedshiftDataProduct, SelectorOperator,
};
use crate::datazone::{Backend, DataZone, Generation, SessionKey};

/// How long a successful role check or domain lookup is trusted.
const TRUST: Duration = Duration::from_secs(600);

const PHASE: Phase = Phase::ConnectionResolved;

#[derive(Clone, Debug)]
pub struct Resolved {
    pub settings: ConnectionSettings,
    pub domain_id: String,
    /// The domain's generation: how its data products publish.
    pub generation: Generation,
    pub assumed_role_arn: String,
}

/// Does `labels` satisfy `selector`? (An empty selector admits everything.)
pub fn selector_matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    selector.match_labels.iter().all(|(k, v)| labels.get(k) == Some(v))
        && selector.match_expressions.iter().all(|r| match r.operator {
            SelectorOperator::In => labels.get(&r.key).is_some_and(|v| r.values.contains(v)),
            SelectorOperator::NotIn => labels.get(&r.key).is_none_or(|v| !r.values.contains(v)),
            SelectorOperator::Exists => labels.contains_key(&r.key),
            SelectorOperator::DoesNotExist => !labels.contains_key(&r.key),
        })
}

/// The connection settings a data product refers to, if its namespace may use them, from the
/// operator's watches.
pub fn settings_for(watched: &Watched, product: &RedshiftDataProduct) -> Result<ConnectionSettings, Blocked> {
    let namespace = product.metadata.namespace.clone().unwrap_or_default();
    settings_of(watched, &namespace, &product.spec.connection_ref)
}

/// The connection settings `r` refers to from `namespace`, if the namespace may use them.
pub fn settings_of(watched: &Watched, namespace: &str, r: &ConnectionRef) -> Result<ConnectionSettings, Blocked> {
    match r.kind {
        ConnectionKind::DataZoneConnection => match watched.connection(namespace, &r.name) {
            Some(c) => Ok(c.spec.connection.clone()),
            None => Err(Blocked::terminal(
                PHASE,
                "ConnectionNotFound",
                format!("DataZoneConnection {namespace}/{} does not exist", r.name),
            )),
        },
        ConnectionKind::ClusterDataZoneConnection => {
            let Some(c) = watched.cluster_connection(&r.name) else {
                return Err(Blocked::terminal(
                    PHASE,
                    "ConnectionNotFound",
                    format!("ClusterDataZoneConnection {} does not exist", r.name),
                ));
            };
            if let Some(selector) = &c.spec.namespace_selector {
                // Just created, perhaps: the watch has not brought it yet.
                let labels = watched.namespace_labels(namespace).ok_or_else(|| {
                    Blocked::retryable(PHASE, "NamespaceUnknown", format!("namespace {namespace} is not known yet"))
                })?;
                if !selector_matches(selector, &labels) {
                    return Err(Blocked::terminal(
                        PHASE,
                        "ConnectionNotAllowed",
                        format!(
                            "ClusterDataZoneConnection {} does not admit namespace {namespace} (namespaceSelector)",
                            r.name
                        ),
                    ));
                }
            }
            Ok(c.spec.connection.clone())
        }
    }
}

/// The session a connection is used through from `namespace`: the tenancy unit.
pub fn session_key(settings: &ConnectionSettings, connection: &str, namespace: &str) -> SessionKey {
    SessionKey {
        connection: connection.to_string(),
        role_arn: settings.role_arn.clone(),
        external_id: settings.external_id.clone(),
        region: settings.region.clone(),
        namespace: namespace.to_string(),
    }
}

/// The session a data product's calls go through.
pub fn product_session(settings: &ConnectionSettings, product: &RedshiftDataProduct) -> SessionKey {
    let namespace = product.metadata.namespace.as_deref().unwrap_or_default();
    ref_session(settings, namespace, &product.spec.connection_ref)
}

/// The session of `namespace`'s objects that use the connection `r`.
pub fn ref_session(settings: &ConnectionSettings, namespace: &str, r: &ConnectionRef) -> SessionKey {
    session_key(settings, &format!("{:?}/{}", r.kind, r.name), namespace)
}

/// Checks the role and resolves the domain (both cached for a while).
pub async fn resolve<B: Backend>(
    ctx: &Context<B>,
    settings: ConnectionSettings,
    key: &SessionKey,
) -> Result<Resolved, Blocked> {
    let ids = &ctx.shared.ids;
    // Checked once per session for all its data products at a time, then trusted a while.
    let role = Lookup::Role(key.clone());
    let assumed_role_arn = ids
        .get_or_find(role, TRUST, || async { ctx.backend.check_role(key).await.map(Some) })
        .await
        .map_err(|e| {
            // Without credentials of its own the operator cannot ask for the role at all.
            let own = e.code == "CredentialsUnavailable";
            let blocked = Blocked::dz(PHASE, e);
            if own { blocked } else { blocked.because("RoleNotAssumable") }
        })?
        .ok_or_else(|| Blocked::retryable(PHASE, "RoleNotAssumable", "STS answered no assumed-role ARN"))?;
    let dz = ctx.backend.project(key);
    let not_found = |e| Blocked::dz(PHASE, e).because("DomainNotFound");
    let region = settings.region.clone();
    let domain_id = match (&settings.domain.id, &settings.domain.name) {
        (Some(id), _) => id.clone(),
        (None, Some(name)) => ids
            .get_or_find(Lookup::DomainByName { region: region.clone(), name: name.clone() }, TRUST, || async {
                let found = dz.find_domain(name).await?;
                // The listing says the generation too: no GetDomain for it.
                if let Some((id, generation)) = &found {
                    let version = Lookup::DomainVersion { region: region.clone(), id: id.clone() };
                    ids.put(version, generation.as_str().to_string());
                }
                Ok(found.map(|(id, _)| id))
            })
            .await
            .map_err(not_found)?
            .ok_or_else(|| {
                Blocked::terminal(
                    PHASE,
                    "DomainNotFound",
                    format!("no DataZone domain named {name} is visible to {}", settings.role_arn),
                )
            })?,
        (None, None) => return Err(Blocked::terminal(PHASE, "InvalidConnection", "the connection names no domain")),
    };
    // A missing domain answers 403, like a foreign one (docs/datazone-semantics.md §1).
    let version = Lookup::DomainVersion { region, id: domain_id.clone() };
    let generation = ids
        .get_or_find(version, TRUST, || async { dz.get_domain(&domain_id).await.map(|g| Some(g.as_str().to_string())) })
        .await
        .map_err(not_found)?
        .map(|v| Generation::parse(Some(&v)))
        .unwrap_or_default();
    Ok(Resolved { settings, domain_id, generation, assumed_role_arn })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::LabelSelectorRequirement;

    #[test]
    fn label_selectors() {
        let labels: BTreeMap<String, String> =
            [("team".to_string(), "sales".to_string()), ("tier".to_string(), "prod".to_string())].into();
        let req = |key: &str, operator, values: &[&str]| LabelSelectorRequirement {
            key: key.into(),
            operator,
            values: values.iter().map(|v| v.to_string()).collect(),
        };
        let cases = [
            (LabelSelector::default(), true),
            (
                LabelSelector {
                    match_labels: [("team".to_string(), "sales".to_string())].into(),
                    ..Default::default()
                },
                true,
            ),
            (
                LabelSelector { match_labels: [("team".to_string(), "ops".to_string())].into(), ..Default::default() },
                false,
            ),
            (
                LabelSelector {
                    match_expressions: vec![req("tier", SelectorOperator::In, &["prod", "stage"])],
                    ..Default::default()
                },
                true,
            ),
            (
                LabelSelector {
                    match_expressions: vec![req("tier", SelectorOperator::NotIn, &["prod"])],
                    ..Default::default()
                },
                false,
            ),
            (
                LabelSelector {
                    match_expressions: vec![req("team", SelectorOperator::Exists, &[])],
                    ..Default::default()
                },
                true,
            ),
            (
                LabelSelector {
                    match_expressions: vec![req("legacy", SelectorOperator::DoesNotExist, &[])],
                    ..Default::default()
                },
                true,
            ),
        ];
        for (selector, want) in cases {
            assert_eq!(selector_matches(&selector, &labels), want, "{selector:?}");
        }
    }
}
