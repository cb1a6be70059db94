//! Business metadata a data product declares beside its tables: metadata forms for every asset,
//! and per table or view a description, glossary terms and forms of its own
//! (docs/datazone-semantics.md §13). Limits are DataZone's, from the model (see [`super::patterns`]).

use kube::KubeSchema;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use super::asset::AssetKind;
use super::patterns as p;

fn form_content_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "description": "The form's content as an object of the form type's fields; the operator sends it to DataZone as the JSON string DataZone wants (at most 300,000 characters).",
        "x-kubernetes-preserve-unknown-fields": true,
    })
}

/// A metadata form attached to assets: an instance of a DataZone form type.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[x_kube(
    validation = Rule::new("has(self.typeName) != has(self.typeIdentifier)").message("a metadata form names its form type by exactly one of typeName or typeIdentifier"),
    validation = Rule::new("self.formName != 'RedshiftTableForm' && self.formName != 'RedshiftViewForm'").message("formName RedshiftTableForm and RedshiftViewForm are the assets' own technical forms")
)]
#[serde(rename_all = "camelCase")]
pub struct MetadataForm {
    /// The form's name on the asset, unique among its forms (e.g. `ownership`).
    #[schemars(length(min = 1, max = p::FORM_NAME_MAX), pattern(p::FORM_NAME))]
    pub form_name: String,

    /// The form type's name (a custom type of the domain, or an `amazon.datazone.` one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = p::FORM_TYPE_IDENTIFIER_MAX), pattern(p::FORM_TYPE_IDENTIFIER))]
    pub type_name: Option<String>,

    /// The form type's identifier, as DataZone's `typeIdentifier` takes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = p::FORM_TYPE_IDENTIFIER_MAX), pattern(p::FORM_TYPE_IDENTIFIER))]
    pub type_identifier: Option<String>,

    /// The form type's revision; left out, DataZone's latest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64), pattern(p::REVISION))]
    pub type_revision: Option<String>,

    /// The form's content: an object of the form type's fields.
    #[schemars(schema_with = "form_content_schema")]
    pub content: serde_json::Map<String, serde_json::Value>,
}

impl MetadataForm {
    /// The form type as DataZone's `typeIdentifier` takes it (a name or an ID).
    pub fn type_identifier(&self) -> &str {
        self.type_identifier.as_deref().or(self.type_name.as_deref()).unwrap_or_default()
    }

    /// The content as the JSON string DataZone wants (keys sorted — serde_json's map is ordered
    /// by key as long as its `preserve_order` feature is off, which Cargo.lock shows — so the same
    /// content is the same string and fingerprints compare stably).
    pub fn content_json(&self) -> String {
        serde_json::Value::Object(self.content.clone()).to_string()
    }
}

/// A table or view with its business metadata. Listed here, it is also published (as if it were
/// in `tables` or `views`).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AssetDetails {
    /// The table or view name.
    #[schemars(length(min = 1, max = p::OBJECT_NAME_MAX), pattern(p::OBJECT_NAME))]
    pub name: String,

    /// TABLE (the default) or VIEW.
    #[serde(default = "table")]
    pub kind: AssetKind,

    /// The asset's description in the catalog. Left out, the description is left as it is (a
    /// description written in the portal stays).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = p::ASSET_DESCRIPTION_MAX))]
    pub description: Option<String>,

    /// Glossary terms of the asset: a term's name, `<glossary>/<term>` when more than one glossary
    /// of the domain has a term of that name, or its ID. Set, they are the asset's terms; left out,
    /// the terms are left as they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = p::GLOSSARY_TERMS_MAX), inner(length(min = 1, max = 513)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub glossary_terms: Option<Vec<String>>,

    /// Metadata forms of this asset alone, beside the data product's `metadataForms` (a form of
    /// the same name here wins).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = p::FORMS_MAX))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["formName".into()]))]
    pub metadata_forms: Vec<MetadataForm>,
}

fn table() -> AssetKind {
    AssetKind::Table
}

/// A DataZone metadata generation type: suggestions DataZone makes for a person to accept.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MetadataGeneration {
    BusinessDescriptions,
    BusinessNames,
    BusinessGlossaryAssociations,
}

impl MetadataGeneration {
    pub fn as_str(self) -> &'static str {
        match self {
            MetadataGeneration::BusinessDescriptions => "BUSINESS_DESCRIPTIONS",
            MetadataGeneration::BusinessNames => "BUSINESS_NAMES",
            MetadataGeneration::BusinessGlossaryAssociations => "BUSINESS_GLOSSARY_ASSOCIATIONS",
        }
    }
}
