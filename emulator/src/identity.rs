//! Identity set up while the emulator runs: OpenID Connect providers, web identity trust and Pod
//! Identity associations. Tests start the emulator before their Kubernetes API server (and so its
//! issuer URL and keys) exists, and register them afterwards through the `Emulator` handle or the
//! control API. Registrations describe the test's cluster, not the emulator's state, so
//! `POST /_emulator/reset` keeps them (they are applied again over the fixture).

use serde_json::{Value, json};

use crate::fixture::{WebIdentityFixture, check_association, check_issuer, is_role_arn};
use crate::state::State;
use crate::web_identity::Jwks;

/// One runtime registration, checked when made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Registration {
    /// A provider: tokens with `iss` = `issuer` verify with `jwks`. Registering an issuer again
    /// replaces its keys (key rotation).
    OidcProvider { issuer: String, jwks: Jwks },
    /// `role_arn` trusts web identities whose subject matches `subject` (IAM StringLike), from any
    /// registered provider, with the role's audience (default `sts.amazonaws.com`). A role the
    /// fixture lacks is created, assumable by its own account only.
    WebIdentityTrust { role_arn: String, subject: String },
    /// Pods of `service_account` in `namespace` get `role_arn` from the Pod Identity endpoint. A
    /// second association for the service account replaces the first [inferred: EKS refuses it
    /// with ResourceInUseException; tests re-register freely]. A missing role is created.
    PodIdentity { namespace: String, service_account: String, role_arn: String },
}

impl Registration {
    pub fn oidc_provider(issuer: &str, jwks: &Value) -> Result<Self, String> {
        check_issuer(issuer, "issuer").map_err(|(_, problem)| problem)?;
        let jwks = Jwks::parse(jwks).map_err(|problem| format!("jwks: {problem}"))?;
        Ok(Registration::OidcProvider { issuer: issuer.to_string(), jwks })
    }

    pub fn web_identity_trust(role_arn: &str, subject: &str) -> Result<Self, String> {
        if !is_role_arn(role_arn) {
            return Err(format!("roleArn: {role_arn:?} is not an IAM role ARN"));
        }
        if subject.is_empty() {
            return Err("subject: empty".into());
        }
        Ok(Registration::WebIdentityTrust { role_arn: role_arn.to_string(), subject: subject.to_string() })
    }

    pub fn pod_identity(namespace: &str, service_account: &str, role_arn: &str) -> Result<Self, String> {
        check_association(namespace, service_account, role_arn)
            .map_err(|(field, problem)| format!("{field}: {problem}"))?;
        Ok(Registration::PodIdentity {
            namespace: namespace.to_string(),
            service_account: service_account.to_string(),
            role_arn: role_arn.to_string(),
        })
    }

    /// Makes the registration true of `state`.
    pub fn apply(&self, state: &mut State) {
        match self {
            Registration::OidcProvider { issuer, jwks } => {
                state.oidc_providers.insert(issuer.clone(), jwks.clone());
            }
            Registration::WebIdentityTrust { role_arn, subject } => {
                let trust = state.role_mut(role_arn).web_identity.get_or_insert_with(|| WebIdentityFixture {
                    subjects: Vec::new(),
                    audience: None,
                    issuer: None,
                });
                if !trust.subjects.contains(subject) {
                    trust.subjects.push(subject.clone());
                }
            }
            Registration::PodIdentity { namespace, service_account, role_arn } => {
                state.role_mut(role_arn);
                state.pod_identity.insert((namespace.clone(), service_account.clone()), role_arn.clone());
            }
        }
    }
}

/// What the control API shows: providers (issuer and key IDs), roles with web identity trust,
/// associations.
pub fn dump(state: &State) -> Value {
    let providers: Vec<Value> =
        state.oidc_providers.iter().map(|(issuer, jwks)| json!({"issuer": issuer, "kids": jwks.kids()})).collect();
    let trusts: Vec<Value> = state
        .roles
        .iter()
        .filter_map(|r| r.web_identity.as_ref().map(|w| json!({"roleArn": r.arn, "webIdentity": w})))
        .collect();
    let associations: Vec<Value> = state
        .pod_identity
        .iter()
        .map(|((namespace, service_account), role)| {
            json!({"namespace": namespace, "serviceAccount": service_account, "roleArn": role})
        })
        .collect();
    json!({"oidcProviders": providers, "webIdentityTrusts": trusts, "podIdentityAssociations": associations})
}
