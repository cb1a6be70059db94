//! `DataZoneGlossary`: a business glossary and its terms, declared in Git beside the data products
//! that use them. Namespaced, like the data products: a team owns its glossary in its namespace,
//! through the same connection (so the same tenancy and session tags), for a project it owns.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::conditions::Condition;
use super::data_product::ConnectionRef;
use super::patterns as p;

/// A DataZone business glossary owned by a project, with its terms. The operator creates the
/// glossary and the terms it lacks and keeps their descriptions as declared; a term taken out of
/// the list, and the glossary when this resource is deleted, stay in DataZone (terms may be on
/// assets).
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[kube(
    group = "dataproducts.dev",
    version = "v1alpha1",
    kind = "DataZoneGlossary",
    plural = "datazoneglossaries",
    shortname = "dzg",
    category = "dataproducts",
    namespaced,
    status = "DataZoneGlossaryStatus",
    doc = "A DataZone business glossary and its terms, owned by a project.",
    printcolumn(name = "Ready", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].status"),
    printcolumn(name = "Reason", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].reason"),
    printcolumn(name = "Glossary", type_ = "string", json_path = ".status.glossaryId"),
    printcolumn(name = "Terms", type_ = "integer", json_path = ".status.termCount"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct DataZoneGlossarySpec {
    /// The DataZoneConnection (same namespace) or ClusterDataZoneConnection to the domain.
    pub connection_ref: ConnectionRef,

    /// The project that owns the glossary: its name or ID. The connection's role must be a
    /// member of it.
    #[schemars(length(min = 1, max = p::PROJECT_NAME_MAX), pattern(p::PROJECT_NAME_OR_ID))]
    pub project: String,

    /// The glossary's name in DataZone (unique in the domain); left out, the resource's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = p::GLOSSARY_NAME_MAX))]
    pub name: Option<String>,

    /// The glossary's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = p::GLOSSARY_DESCRIPTION_MAX))]
    pub description: Option<String>,

    /// The glossary's terms. Names are unique.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 500), extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["name"]))]
    pub terms: Vec<GlossaryTermSpec>,
}

/// One business term.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GlossaryTermSpec {
    /// The term, as data products name it in `glossaryTerms`.
    #[schemars(length(min = 1, max = p::GLOSSARY_TERM_NAME_MAX))]
    pub name: String,
    /// What it means, in a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = p::TERM_SHORT_DESCRIPTION_MAX))]
    pub short_description: Option<String>,
    /// What it means, in full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = p::TERM_LONG_DESCRIPTION_MAX))]
    pub long_description: Option<String>,
}

/// Observed state, written only by the operator.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataZoneGlossaryStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready, and Reconciling / Stalled while not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub glossary_id: Option<String>,
    /// The declared terms DataZone has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term_count: Option<i64>,
    /// Each declared term's ID.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<GlossaryTermStatus>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GlossaryTermStatus {
    pub name: String,
    pub id: String,
}

impl DataZoneGlossary {
    /// The glossary's name in DataZone.
    pub fn glossary_name(&self) -> String {
        self.spec.name.clone().unwrap_or_else(|| self.metadata.name.clone().unwrap_or_default())
    }
}
