//! The catalog side of DataZone a data product's business metadata needs: assets and their
//! revisions, listings, glossaries and their terms, metadata generation runs
//! (docs/datazone-semantics.md §13). Plain types, as the rest of [`super`].

use super::DzError;

/// A metadata form as DataZone takes it (`FormInput`) or reports it (`FormOutput`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Form {
    pub name: String,
    /// The form type: the `typeIdentifier` given, or the `typeName` reported.
    pub type_identifier: String,
    /// `None`: DataZone's latest (given), or not said (reported).
    pub type_revision: Option<String>,
    /// The content, a JSON string.
    pub content: String,
}

impl Form {
    /// Whether a form DataZone reports (`self`) is the one `wanted`: the same name and content
    /// (as JSON values: DataZone need not keep the string's spacing), and the revision when one
    /// is asked for. The type is not compared: DataZone reports its name, while the spec may give
    /// an ID.
    pub fn agrees_with(&self, wanted: &Form) -> bool {
        let json = |s: &str| serde_json::from_str::<serde_json::Value>(s).ok();
        self.name == wanted.name
            && json(&self.content) == json(&wanted.content)
            && (wanted.type_revision.is_none() || self.type_revision == wanted.type_revision)
    }
}

/// Whether the forms DataZone reports are the wanted ones, whatever their order.
pub fn forms_agree(actual: &[Form], wanted: &[Form]) -> bool {
    actual.len() == wanted.len() && wanted.iter().all(|w| actual.iter().any(|a| a.agrees_with(w)))
}

/// An asset's latest revision as `GetAsset` answers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetInfo {
    pub id: String,
    pub name: String,
    pub revision: String,
    pub description: Option<String>,
    /// Glossary term IDs.
    pub glossary_terms: Vec<String>,
    pub forms: Vec<Form>,
    /// Whether the asset has a listing in the catalog (published, or being published).
    pub listed: bool,
}

/// A new revision of an asset: everything the revision is to have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetRevision {
    pub asset_id: String,
    pub name: String,
    pub description: Option<String>,
    pub glossary_terms: Vec<String>,
    pub forms: Vec<Form>,
    pub client_token: String,
}

/// A glossary term as `Search` (scope GLOSSARY_TERM) answers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TermInfo {
    pub id: String,
    pub name: String,
    pub glossary_id: String,
    pub short_description: Option<String>,
    pub long_description: Option<String>,
    pub enabled: bool,
}

/// A glossary as `Search` (scope GLOSSARY) answers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlossaryInfo {
    pub id: String,
    pub name: String,
    pub project_id: String,
    pub description: Option<String>,
    pub enabled: bool,
}

/// What the operator writes of a glossary term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TermSpec {
    pub name: String,
    pub short_description: Option<String>,
    pub long_description: Option<String>,
}

/// Catalog calls, made as the connection's role.
pub trait Catalog: Send + Sync {
    /// Every glossary of the domain the caller sees (all pages), or those of one project.
    fn glossaries(
        &self,
        domain: &str,
        project: Option<&str>,
    ) -> impl Future<Output = Result<Vec<GlossaryInfo>, DzError>> + Send;
    /// Every glossary term of the domain the caller sees (all pages), or those of one project's
    /// glossaries.
    fn glossary_terms(
        &self,
        domain: &str,
        project: Option<&str>,
    ) -> impl Future<Output = Result<Vec<TermInfo>, DzError>> + Send;
    fn create_glossary(
        &self,
        domain: &str,
        project: &str,
        name: &str,
        description: Option<&str>,
        client_token: &str,
    ) -> impl Future<Output = Result<GlossaryInfo, DzError>> + Send;
    fn update_glossary(
        &self,
        domain: &str,
        id: &str,
        description: &str,
    ) -> impl Future<Output = Result<(), DzError>> + Send;
    fn create_glossary_term(
        &self,
        domain: &str,
        glossary: &str,
        term: &TermSpec,
        client_token: &str,
    ) -> impl Future<Output = Result<TermInfo, DzError>> + Send;
    fn update_glossary_term(
        &self,
        domain: &str,
        id: &str,
        term: &TermSpec,
    ) -> impl Future<Output = Result<(), DzError>> + Send;
    fn get_asset(&self, domain: &str, id: &str) -> impl Future<Output = Result<AssetInfo, DzError>> + Send;
    /// Makes the revision; answers its number.
    fn create_asset_revision(
        &self,
        domain: &str,
        revision: &AssetRevision,
    ) -> impl Future<Output = Result<String, DzError>> + Send;
    /// Publishes that revision of the asset; answers the listing revision.
    fn publish_asset(
        &self,
        domain: &str,
        asset: &str,
        revision: &str,
        client_token: &str,
    ) -> impl Future<Output = Result<String, DzError>> + Send;
    /// Takes the asset's listing out of the catalog (no new subscriptions; existing ones stay).
    fn unpublish_asset(
        &self,
        domain: &str,
        asset: &str,
        client_token: &str,
    ) -> impl Future<Output = Result<(), DzError>> + Send;
    /// Deletes the asset (refused while a data product holds it or its listing has subscribers).
    fn delete_asset(&self, domain: &str, asset: &str) -> impl Future<Output = Result<(), DzError>> + Send;
    /// Starts a metadata generation run for the asset; answers its ID.
    fn start_metadata_generation(
        &self,
        domain: &str,
        project: &str,
        asset: &str,
        types: &[&str],
        client_token: &str,
    ) -> impl Future<Output = Result<String, DzError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(name: &str, content: &str, revision: Option<&str>) -> Form {
        Form {
            name: name.into(),
            type_identifier: "OwnershipFormType".into(),
            type_revision: revision.map(Into::into),
            content: content.into(),
        }
    }

    #[test]
    fn forms_agree_on_name_content_and_an_asked_revision() {
        let wanted = [form("ownership", r#"{"owner":"sales","tier":1}"#, None)];
        let spaced = [form("ownership", r#"{ "tier": 1, "owner": "sales" }"#, Some("3"))];
        assert!(forms_agree(&spaced, &wanted), "spacing, key order and a reported revision do not matter");
        assert!(!forms_agree(&[form("ownership", r#"{"owner":"hr","tier":1}"#, None)], &wanted), "content does");
        assert!(!forms_agree(&[], &wanted), "a missing form does");
        let pinned = [form("ownership", r#"{"owner":"sales","tier":1}"#, Some("2"))];
        assert!(!forms_agree(&spaced, &pinned), "an asked revision does");
        assert!(forms_agree(&[], &[]));
    }
}
