//! The fixture: accounts, principals, roles, domains, projects, secrets and the fake Redshift
//! catalog the emulator starts with (and returns to on `POST /_emulator/reset`).

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum FixtureError {
    #[error("cannot read fixture {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("fixture {path} is not valid YAML for the fixture shape: {message}")]
    Parse { path: String, message: String },
    #[error("fixture {path}: {at}: {problem}")]
    Invalid { path: String, at: String, problem: String },
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Fixture {
    /// Static keys the emulator accepts; the ARN gives the account.
    #[serde(default)]
    pub principals: Vec<PrincipalFixture>,
    /// Roles assumable with sts:AssumeRole.
    #[serde(default)]
    pub roles: Vec<RoleFixture>,
    #[serde(default)]
    pub domains: Vec<DomainFixture>,
    /// Secrets Manager secret ARNs that exist (and that DataZone may read).
    #[serde(default)]
    pub secrets: Vec<String>,
    /// The fake Redshift catalog.
    #[serde(default)]
    pub redshift: Vec<RedshiftFixture>,
    /// OpenID Connect providers (a Kubernetes API server's service account issuer) whose tokens
    /// STS `AssumeRoleWithWebIdentity` and the Pod Identity credentials endpoint accept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub oidc_providers: Vec<OidcProviderFixture>,
    /// EKS Pod Identity associations: a service account's role.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pod_identity_associations: Vec<PodIdentityAssociationFixture>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PrincipalFixture {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub arn: String,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RoleFixture {
    pub arn: String,
    /// Accounts whose principals may assume the role (its own account always may).
    #[serde(default)]
    pub trusted_accounts: Vec<String>,
    /// When set, AssumeRole must pass exactly this ExternalId.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Longest session in seconds (IAM's MaxSessionDuration; default 3600).
    #[serde(default)]
    pub max_session_duration: Option<u64>,
    /// The web identities (service accounts) that may assume the role with
    /// sts:AssumeRoleWithWebIdentity; none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_identity: Option<WebIdentityFixture>,
}

impl RoleFixture {
    /// A role that only its own account may assume, as a runtime registration creates it.
    pub fn new(arn: &str) -> Self {
        Self {
            arn: arn.to_string(),
            trusted_accounts: Vec::new(),
            external_id: None,
            max_session_duration: None,
            web_identity: None,
        }
    }
}

/// The trust policy's `sts:AssumeRoleWithWebIdentity` statement, reduced to what IRSA uses: the
/// federated provider (`issuer`) and the `<issuer>:sub` (StringLike) and `<issuer>:aud` conditions.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WebIdentityFixture {
    /// Subject patterns (`system:serviceaccount:<namespace>:<name>`), `*` and `?` as IAM's StringLike.
    pub subjects: Vec<String>,
    /// The audience the token must carry (default `sts.amazonaws.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// The issuer URL of the one provider trusted (default: every registered provider).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

/// An OpenID Connect provider: its issuer URL and its signing keys, inline (`jwks`) or in a file
/// (`jwksFile`, relative to the fixture's directory; read when the fixture is loaded).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OidcProviderFixture {
    pub issuer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
}

/// An EKS Pod Identity association: pods of `serviceAccount` in `namespace` get `roleArn`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PodIdentityAssociationFixture {
    pub namespace: String,
    pub service_account: String,
    pub role_arn: String,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DomainFixture {
    pub name: String,
    #[serde(default)]
    pub id: Option<String>,
    pub account_id: String,
    pub region: String,
    /// `V1` (DataZone, the default) or `V2` (Amazon SageMaker Unified Studio).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default)]
    pub associated_accounts: Vec<String>,
    #[serde(default)]
    pub projects: Vec<ProjectFixture>,
    /// Custom metadata form types the domain starts with (each at revision 1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub form_types: Vec<FormTypeFixture>,
}

/// A custom metadata form type: its name, its Smithy model and the project (by name) that owns it.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FormTypeFixture {
    pub name: String,
    pub smithy: String,
    pub owning_project: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProjectFixture {
    pub name: String,
    #[serde(default)]
    pub id: Option<String>,
    /// IAM principal ARNs that are members (contributors) of the project.
    #[serde(default)]
    pub members: Vec<String>,
    /// V2 only: the project profile (generated otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_profile_id: Option<String>,
    /// V2 only: the account of the project's Tooling environment (the domain's otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_account_id: Option<String>,
}

/// One Redshift cluster or serverless workgroup with its databases.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RedshiftFixture {
    pub account_id: String,
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workgroup_name: Option<String>,
    #[serde(default)]
    pub databases: Vec<DatabaseFixture>,
}

impl RedshiftFixture {
    /// The cluster name or workgroup name.
    pub fn endpoint_name(&self) -> &str {
        self.cluster_name.as_deref().or(self.workgroup_name.as_deref()).unwrap_or_default()
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseFixture {
    pub name: String,
    #[serde(default)]
    pub schemas: Vec<SchemaFixture>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SchemaFixture {
    pub name: String,
    #[serde(default)]
    pub tables: Vec<String>,
    #[serde(default)]
    pub views: Vec<String>,
}

/// The account of an IAM or STS ARN (`arn:aws:iam::<account>:...`).
pub fn account_of(arn: &str) -> Option<&str> {
    let account = arn.split(':').nth(4)?;
    is_account(account).then_some(account)
}

pub fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

impl Fixture {
    pub fn load(path: &Path) -> Result<Self, FixtureError> {
        let shown = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|source| FixtureError::Read { path: shown.clone(), source })?;
        Self::parse(&text, &shown)
    }

    /// Parses and checks fixture text; `path` names it in errors, and `jwksFile`s are read
    /// relative to its directory.
    pub fn parse(text: &str, path: &str) -> Result<Self, FixtureError> {
        let mut fixture: Fixture = serde_saphyr::from_str(text)
            .map_err(|e| FixtureError::Parse { path: path.to_string(), message: e.to_string() })?;
        let invalid = |(at, problem)| FixtureError::Invalid { path: path.to_string(), at, problem };
        fixture.read_jwks_files(Path::new(path).parent().unwrap_or(Path::new(""))).map_err(invalid)?;
        fixture.validate().map_err(invalid)?;
        Ok(fixture)
    }

    /// Reads each OIDC provider's `jwksFile` (relative to `dir`) into its `jwks`.
    pub fn read_jwks_files(&mut self, dir: &Path) -> Result<(), (String, String)> {
        for (i, p) in self.oidc_providers.iter_mut().enumerate() {
            let Some(file) = &p.jwks_file else { continue };
            let at = format!("oidcProviders[{i}].jwksFile");
            let full = dir.join(file);
            let text = std::fs::read_to_string(&full)
                .map_err(|e| (at.clone(), format!("cannot read {}: {e}", full.display())))?;
            let jwks = serde_json::from_str(&text).map_err(|e| (at, format!("{} is not JSON: {e}", full.display())))?;
            p.jwks = Some(jwks);
        }
        Ok(())
    }

    /// Checks what the YAML shape cannot say; the error names the offending path.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let mut keys = BTreeSet::new();
        for (i, p) in self.principals.iter().enumerate() {
            let at = format!("principals[{i}]");
            if p.access_key_id.len() < 16 {
                return Err((format!("{at}.accessKeyId"), "must be at least 16 characters".into()));
            }
            if !keys.insert(&p.access_key_id) {
                return Err((format!("{at}.accessKeyId"), format!("duplicate key {}", p.access_key_id)));
            }
            if p.secret_access_key.is_empty() {
                return Err((format!("{at}.secretAccessKey"), "empty".into()));
            }
            check_principal_arn(&p.arn, &format!("{at}.arn"))?;
        }
        for (i, r) in self.roles.iter().enumerate() {
            let at = format!("roles[{i}]");
            if !r.arn.contains(":role/") || account_of(&r.arn).is_none() {
                return Err((format!("{at}.arn"), format!("{:?} is not an IAM role ARN", r.arn)));
            }
            for (j, a) in r.trusted_accounts.iter().enumerate() {
                check_account(a, &format!("{at}.trustedAccounts[{j}]"))?;
            }
            if let Some(d) = r.max_session_duration
                && !(900..=43200).contains(&d)
            {
                return Err((format!("{at}.maxSessionDuration"), "must be 900..=43200 seconds".into()));
            }
            if let Some(w) = &r.web_identity {
                check_web_identity(w, &format!("{at}.webIdentity"))?;
            }
        }
        let mut issuers = BTreeSet::new();
        for (i, p) in self.oidc_providers.iter().enumerate() {
            let at = format!("oidcProviders[{i}]");
            check_issuer(&p.issuer, &format!("{at}.issuer"))?;
            if !issuers.insert(&p.issuer) {
                return Err((format!("{at}.issuer"), format!("duplicate provider {}", p.issuer)));
            }
            match (&p.jwks, &p.jwks_file) {
                (Some(jwks), _) => {
                    crate::web_identity::Jwks::parse(jwks).map_err(|problem| (format!("{at}.jwks"), problem))?;
                }
                (None, Some(_)) => {
                    return Err((format!("{at}.jwksFile"), "not read yet (Fixture::load and ::parse read it)".into()));
                }
                (None, None) => return Err((at, "set jwks or jwksFile".into())),
            }
        }
        let mut associations = BTreeSet::new();
        for (i, a) in self.pod_identity_associations.iter().enumerate() {
            let at = format!("podIdentityAssociations[{i}]");
            check_association(&a.namespace, &a.service_account, &a.role_arn)
                .map_err(|(field, problem)| (format!("{at}.{field}"), problem))?;
            if !associations.insert((&a.namespace, &a.service_account)) {
                return Err((at, format!("a second association for {}/{}", a.namespace, a.service_account)));
            }
        }
        let mut domain_names = BTreeSet::new();
        for (i, d) in self.domains.iter().enumerate() {
            let at = format!("domains[{i}]");
            if d.name.is_empty() {
                return Err((format!("{at}.name"), "empty".into()));
            }
            if !domain_names.insert((&d.account_id, &d.name)) {
                return Err((
                    format!("{at}.name"),
                    format!("duplicate domain {:?} in account {}", d.name, d.account_id),
                ));
            }
            if let Some(id) = &d.id
                && !is_domain_id(id)
            {
                return Err((format!("{at}.id"), format!("{id:?} does not match dzd[-_][a-zA-Z0-9_-]{{1,36}}")));
            }
            check_account(&d.account_id, &format!("{at}.accountId"))?;
            check_region(&d.region, &format!("{at}.region"))?;
            for (j, a) in d.associated_accounts.iter().enumerate() {
                check_account(a, &format!("{at}.associatedAccounts[{j}]"))?;
            }
            let v2 = match d.version.as_deref() {
                None | Some("V1") => false,
                Some("V2") => true,
                Some(v) => return Err((format!("{at}.version"), format!("{v:?} is not V1 or V2"))),
            };
            let mut project_names = BTreeSet::new();
            for (j, p) in d.projects.iter().enumerate() {
                let pat = format!("{at}.projects[{j}]");
                if !is_project_name(&p.name) {
                    return Err((format!("{pat}.name"), format!("{:?} is not a DataZone project name", p.name)));
                }
                if !project_names.insert(&p.name) {
                    return Err((format!("{pat}.name"), format!("duplicate project {:?}", p.name)));
                }
                for (k, m) in p.members.iter().enumerate() {
                    check_principal_arn(m, &format!("{pat}.members[{k}]"))?;
                }
                // Project profiles and project environments exist in V2 domains only.
                if let Some(profile) = &p.project_profile_id {
                    if !v2 {
                        return Err((
                            format!("{pat}.projectProfileId"),
                            "only V2 domains have project profiles".into(),
                        ));
                    }
                    if !is_resource_id(profile) {
                        return Err((
                            format!("{pat}.projectProfileId"),
                            format!("{profile:?} does not match [a-zA-Z0-9_-]{{1,36}}"),
                        ));
                    }
                }
                if let Some(account) = &p.environment_account_id {
                    if !v2 {
                        return Err((
                            format!("{pat}.environmentAccountId"),
                            "only V2 projects have a project environment".into(),
                        ));
                    }
                    check_account(account, &format!("{pat}.environmentAccountId"))?;
                }
            }
            let mut form_type_names = BTreeSet::new();
            for (j, f) in d.form_types.iter().enumerate() {
                let fat = format!("{at}.formTypes[{j}]");
                // As CreateFormType checks them (datazone/form_types.rs).
                let name_ok = f.name.len() <= 128
                    && crate::patterns::matches(crate::patterns::FORM_TYPE_NAME, &f.name)
                    && !f.name.starts_with("amazon.datazone.");
                if !name_ok {
                    return Err((format!("{fat}.name"), format!("{:?} is not a custom form type name", f.name)));
                }
                if !form_type_names.insert(&f.name) {
                    return Err((format!("{fat}.name"), format!("duplicate form type {:?}", f.name)));
                }
                if let Err(problem) = crate::datazone::smithy::parse(&f.smithy) {
                    return Err((format!("{fat}.smithy"), problem));
                }
                if !d.projects.iter().any(|p| p.name == f.owning_project) {
                    return Err((
                        format!("{fat}.owningProject"),
                        format!("{:?} is not a project of the domain", f.owning_project),
                    ));
                }
                if f.description.as_ref().is_some_and(|d| d.chars().count() > 2048) {
                    return Err((format!("{fat}.description"), "longer than 2048 characters".into()));
                }
            }
        }
        for (i, s) in self.secrets.iter().enumerate() {
            if !s.starts_with("arn:aws") || !s.contains(":secretsmanager:") || account_of(s).is_none() {
                return Err((format!("secrets[{i}]"), format!("{s:?} is not a Secrets Manager secret ARN")));
            }
        }
        for (i, r) in self.redshift.iter().enumerate() {
            let at = format!("redshift[{i}]");
            check_account(&r.account_id, &format!("{at}.accountId"))?;
            check_region(&r.region, &format!("{at}.region"))?;
            if r.cluster_name.is_some() == r.workgroup_name.is_some() {
                return Err((at, "set exactly one of clusterName or workgroupName".into()));
            }
            for (j, db) in r.databases.iter().enumerate() {
                if db.name.is_empty() {
                    return Err((format!("{at}.databases[{j}].name"), "empty".into()));
                }
                for (k, s) in db.schemas.iter().enumerate() {
                    let sat = format!("{at}.databases[{j}].schemas[{k}]");
                    if s.name.is_empty() {
                        return Err((format!("{sat}.name"), "empty".into()));
                    }
                    let mut names = BTreeSet::new();
                    for name in s.tables.iter().chain(&s.views) {
                        if !names.insert(name) {
                            return Err((
                                sat.clone(),
                                format!("{name:?} is listed twice (a table and a view share one namespace)"),
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

pub fn is_domain_id(id: &str) -> bool {
    let rest = id.strip_prefix("dzd_").or_else(|| id.strip_prefix("dzd-")).unwrap_or("");
    (1..=36).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `[a-zA-Z0-9_-]{1,36}`: the pattern of most DataZone IDs.
pub fn is_resource_id(s: &str) -> bool {
    (1..=36).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub fn is_project_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_ -".contains(&b))
}

pub fn is_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    (4..=16).contains(&r.len())
        && parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().take(parts.len() - 1).all(|p| p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts.last().is_some_and(|p| p.len() == 1 && p.bytes().all(|b| b.is_ascii_digit()))
}

fn check_account(a: &str, at: &str) -> Result<(), (String, String)> {
    if is_account(a) { Ok(()) } else { Err((at.to_string(), format!("{a:?} is not a 12-digit account ID"))) }
}

fn check_region(r: &str, at: &str) -> Result<(), (String, String)> {
    if is_region(r) { Ok(()) } else { Err((at.to_string(), format!("{r:?} is not an AWS region"))) }
}

/// An IAM role ARN with an account (`arn:aws:iam::<account>:role/<name>`).
pub fn is_role_arn(arn: &str) -> bool {
    arn.starts_with("arn:aws")
        && arn.split(':').nth(2) == Some("iam")
        && account_of(arn).is_some()
        && arn.contains(":role/")
}

/// An OIDC issuer URL. IAM takes `https://` only [docs: IAM, Create an OpenID Connect (OIDC)
/// identity provider]; `http://` is allowed too so a local test cluster's issuer can be used.
pub fn check_issuer(issuer: &str, at: &str) -> Result<(), (String, String)> {
    let rest = issuer.strip_prefix("https://").or_else(|| issuer.strip_prefix("http://")).unwrap_or("");
    if rest.is_empty() || issuer.chars().any(char::is_whitespace) {
        return Err((at.to_string(), format!("{issuer:?} is not an issuer URL (https://…)")));
    }
    Ok(())
}

fn check_web_identity(w: &WebIdentityFixture, at: &str) -> Result<(), (String, String)> {
    if w.subjects.is_empty() {
        return Err((format!("{at}.subjects"), "list at least one subject pattern".into()));
    }
    if let Some(j) = w.subjects.iter().position(String::is_empty) {
        return Err((format!("{at}.subjects[{j}]"), "empty".into()));
    }
    if w.audience.as_deref() == Some("") {
        return Err((format!("{at}.audience"), "empty".into()));
    }
    if let Some(issuer) = &w.issuer {
        check_issuer(issuer, &format!("{at}.issuer"))?;
    }
    Ok(())
}

/// A Pod Identity association's fields; the error names the offending one.
pub fn check_association(namespace: &str, service_account: &str, role_arn: &str) -> Result<(), (String, String)> {
    // Kubernetes names never hold ':' (DNS labels and subdomains), which the subject splits on.
    for (field, value) in [("namespace", namespace), ("serviceAccount", service_account)] {
        if value.is_empty() || value.contains(':') || value.chars().any(char::is_whitespace) {
            return Err((field.into(), format!("{value:?} is not a Kubernetes name")));
        }
    }
    if !is_role_arn(role_arn) {
        return Err(("roleArn".into(), format!("{role_arn:?} is not an IAM role ARN")));
    }
    Ok(())
}

fn check_principal_arn(arn: &str, at: &str) -> Result<(), (String, String)> {
    let ok = arn.starts_with("arn:aws")
        && arn.split(':').nth(2) == Some("iam")
        && account_of(arn).is_some()
        && (arn.contains(":role/") || arn.contains(":user/"));
    if ok { Ok(()) } else { Err((at.to_string(), format!("{arn:?} is not an IAM user or role ARN"))) }
}

#[cfg(test)]
mod tests;
