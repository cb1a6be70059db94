//! `spec.dataProduct`: the resource's assets grouped into DataZone data products, the unit a
//! consumer finds and subscribes to in the catalog (docs/datazone-semantics.md, data products).
//!
//! Left out, nothing changes: the assets are published on their own, as before this field
//! existed (an upgrade never changes the catalog of a manifest that does not ask). `dataProduct:
//! {}` makes one DataZone data product of all the resource's assets, named after the resource.
//! Whether the assets are also listed on their own is `publishing.publishOnImport`: true (the
//! default) lists both, false makes the data product the only way to them. Limits are DataZone's,
//! from the model (see [`super::patterns`]).

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::business::MetadataForm;
use super::patterns as p;

/// How the resource's assets are grouped into DataZone data products.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[x_kube(
    validation = Rule::new("!has(self.groups) || size(self.groups) == 0 || !has(self.per) || self.per == 'Resource'").message("spec.dataProduct: groups and per: Schema exclude each other (groups declare their own assets)"),
    validation = Rule::new("!has(self.groups) || size(self.groups) == 0 || !has(self.name)").message("spec.dataProduct.name: with groups, each group names its own data product")
)]
#[serde(rename_all = "camelCase")]
pub struct CatalogProduct {
    /// The DataZone data product's name, unique in the domain. Left out: the resource's name;
    /// with `per: Schema`, this name (or the resource's) then `-` and the schema's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = p::DATA_PRODUCT_NAME_MAX))]
    pub name: Option<String>,

    /// Resource (the default): one data product of every asset; Schema: one per schema.
    #[serde(default, skip_serializing_if = "ProductPer::is_resource")]
    pub per: ProductPer,

    /// The data product's description in the catalog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = p::DATA_PRODUCT_DESCRIPTION_MAX))]
    pub description: Option<String>,

    /// Glossary terms of the data product as a whole: a term's name, `<glossary>/<term>`, or its ID.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = p::GLOSSARY_TERMS_MAX), inner(length(min = 1, max = 513)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub glossary_terms: Vec<String>,

    /// Metadata forms of the data product as a whole (owner, domain, SLA...). Form names are unique.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = p::DATA_PRODUCT_FORMS_MAX))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["formName".into()]))]
    pub metadata_forms: Vec<MetadataForm>,

    /// Take over a data product of this name the project already has (made in the portal, or by
    /// the reference Lambda's successors): it is marked as this resource's and brought to the
    /// spec. Without it such a name is `NameTaken` and left alone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adopt: bool,

    /// Declared groups instead: each one DataZone data product of the assets it names. An asset
    /// may be in more than one group; an asset in none is listed only on its own (if
    /// `publishing.publishOnImport` is true). Group names are unique.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = p::DATA_PRODUCT_GROUPS_MAX))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub groups: Vec<ProductGroup>,
}

/// How many data products the resource's assets make when no groups are declared.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum ProductPer {
    /// One data product of every asset of the resource.
    #[default]
    Resource,
    /// One data product per schema, of that schema's assets.
    Schema,
}

impl ProductPer {
    fn is_resource(&self) -> bool {
        *self == ProductPer::Resource
    }
}

/// One declared DataZone data product of some of the resource's assets.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ProductGroup {
    /// The DataZone data product's name, unique in the domain.
    #[schemars(length(min = 1, max = p::DATA_PRODUCT_NAME_MAX))]
    pub name: String,

    /// Its description in the catalog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = p::DATA_PRODUCT_DESCRIPTION_MAX))]
    pub description: Option<String>,

    /// Its glossary terms (as in `dataProduct.glossaryTerms`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = p::GLOSSARY_TERMS_MAX), inner(length(min = 1, max = 513)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub glossary_terms: Vec<String>,

    /// Its metadata forms. Form names are unique.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = p::DATA_PRODUCT_FORMS_MAX))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["formName".into()]))]
    pub metadata_forms: Vec<MetadataForm>,

    /// Take over a data product of this name the project already has (as `dataProduct.adopt`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adopt: bool,

    /// The tables and views it holds, each one of the resource's assets.
    #[schemars(length(min = 1, max = p::DATA_PRODUCT_ITEMS_MAX))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["schema".into(), "name".into()]))]
    pub items: Vec<ProductItem>,
}

/// A table or view of the resource, as an item of a data product.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ProductItem {
    /// The schema, one of `spec.schemas`.
    #[schemars(length(min = 1, max = p::OBJECT_NAME_MAX), pattern(p::OBJECT_NAME))]
    pub schema: String,

    /// The table or view name.
    #[schemars(length(min = 1, max = p::OBJECT_NAME_MAX), pattern(p::OBJECT_NAME))]
    pub name: String,

    /// Glossary terms of the asset inside this data product (DataZone allows 2 an item).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = p::DATA_PRODUCT_ITEM_TERMS_MAX), inner(length(min = 1, max = 513)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub glossary_terms: Vec<String>,
}

/// A DataZone data product as the operator last made and published it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CatalogProductStatus {
    /// Its name in DataZone.
    pub name: String,
    /// Its DataZone ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The revision last made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Its listing in the catalog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing_id: Option<String>,
    /// The listing's revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing_revision: Option<String>,
    /// The listing's status: CREATING, ACTIVE or INACTIVE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing_status: Option<String>,
    /// When the operator last published it: a view of the catalog taken before says nothing of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listed_at: Option<String>,
    /// How many assets the revision holds.
    #[serde(default)]
    pub items: i64,
    /// A fingerprint of what the revision says (items, description, terms, forms): a changed one
    /// makes the next revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// The data source run whose assets the revision holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// The spec generation the revision was written for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    /// Why it is not as the spec says (a name another data product has, items the run has no
    /// asset of, terms that do not resolve): looked at again at every resync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}
