//! The catalog's records (assets and their revisions, form types, glossaries and terms, data
//! products, listings, metadata generation runs), kept in [`crate::state::State`] and re-exported from there.

use std::collections::BTreeSet;

use crate::clock::Instant;

/// A metadata form on an asset revision or a data source: an instance of a form type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Form {
    pub name: String,
    pub type_name: String,
    pub type_revision: String,
    /// A JSON object, as a string (FormInput's and FormOutput's `content`).
    pub content: String,
}

/// One revision of an asset: what CreateAssetRevision (or a run) wrote.
#[derive(Clone, Debug)]
pub struct AssetRevision {
    /// 1, 2, …; answered as a string.
    pub number: u32,
    pub name: String,
    pub description: Option<String>,
    /// Glossary term IDs.
    pub glossary_terms: Vec<String>,
    /// The technical form first, then the others in the order given.
    pub forms: Vec<Form>,
    pub created_at: Instant,
    pub created_by: String,
}

#[derive(Clone, Debug)]
pub struct Asset {
    pub id: String,
    pub domain_id: String,
    pub project_id: String,
    pub data_source_id: String,
    /// The source object's name (the first revision's name).
    pub name: String,
    pub database: String,
    pub schema: String,
    pub is_view: bool,
    pub external_identifier: String,
    /// Never empty: the first is made with the asset.
    pub revisions: Vec<AssetRevision>,
    pub created_by: String,
    pub created_at: Instant,
    /// The asset's listing once published (in [`State::listings`]).
    pub listing: Option<String>,
}

impl Asset {
    pub fn type_identifier(&self) -> &'static str {
        if self.is_view { "amazon.datazone.RedshiftViewAssetType" } else { "amazon.datazone.RedshiftTableAssetType" }
    }

    /// The form the data source writes: the object's database, schema and name.
    pub fn technical_form_name(&self) -> &'static str {
        if self.is_view { "RedshiftViewForm" } else { "RedshiftTableForm" }
    }

    pub fn latest(&self) -> &AssetRevision {
        // `revisions` is never empty; an empty one would be a bug in the emulator.
        self.revisions.last().expect("an asset has at least one revision")
    }

    pub fn revision(&self, number: &str) -> Option<&AssetRevision> {
        self.revisions.iter().find(|r| r.number.to_string() == number)
    }
}

/// A revision of a form type: its Smithy model as given and as parsed.
#[derive(Clone, Debug)]
pub struct FormTypeRevision {
    pub smithy: String,
    pub model: crate::datazone::smithy::FormModel,
    pub status: &'static str,
    pub description: Option<String>,
    pub created_at: Instant,
    pub created_by: String,
}

/// A custom form type of a domain (the built-in `amazon.datazone.` ones are not stored).
#[derive(Clone, Debug)]
pub struct FormType {
    pub domain_id: String,
    pub name: String,
    pub project_id: String,
    /// Revision n is `revisions[n - 1]`.
    pub revisions: Vec<FormTypeRevision>,
}

#[derive(Clone, Debug)]
pub struct Glossary {
    pub id: String,
    pub domain_id: String,
    pub project_id: String,
    pub name: String,
    pub description: Option<String>,
    pub status: &'static str,
    pub usage_restrictions: Vec<String>,
    pub created_at: Instant,
    pub created_by: String,
    pub updated_at: Instant,
    pub updated_by: String,
}

#[derive(Clone, Debug)]
pub struct GlossaryTerm {
    pub id: String,
    pub domain_id: String,
    pub glossary_id: String,
    pub name: String,
    pub short_description: Option<String>,
    pub long_description: Option<String>,
    pub status: &'static str,
    /// `termRelations`: (isA, classifies) term IDs.
    pub is_a: Vec<String>,
    pub classifies: Vec<String>,
    pub created_at: Instant,
    pub created_by: String,
    pub updated_at: Instant,
    pub updated_by: String,
}

/// What a listing publishes: an asset or a data product, by ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListingEntity {
    Asset(String),
    DataProduct(String),
}

/// Whether an asset's listing was published for the asset itself (CreateListingChangeSet of the
/// asset, or `publishOnImport`), as against only through data products (emulator/README.md, Data
/// products).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnPublication {
    /// Only ever published through data products.
    Never,
    Published,
    /// Published once, then unpublished.
    Withdrawn,
}

/// An item of a data product listing revision: the asset listing revision it reaches, and the
/// glossary terms the data product gave the item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListingSummary {
    pub listing_id: String,
    pub listing_revision: u32,
    pub glossary_terms: Vec<String>,
}

/// One listing revision: the asset or data product revision published in it.
#[derive(Clone, Debug)]
pub struct ListingRevision {
    pub number: u32,
    /// The asset's or data product's revision.
    pub entity_revision: u32,
    /// A data product listing's items (empty for an asset listing).
    pub items: Vec<ListingSummary>,
    pub created_at: Instant,
    pub created_by: String,
}

/// An asset's or a data product's listing in the catalog.
#[derive(Clone, Debug)]
pub struct Listing {
    pub id: String,
    pub domain_id: String,
    pub entity: ListingEntity,
    /// ACTIVE or INACTIVE.
    pub status: &'static str,
    /// An asset listing: whether the asset itself was published (a data product listing: Published).
    pub own: OwnPublication,
    /// An asset listing: the data products whose ACTIVE listings reach it. The listing is ACTIVE
    /// while it is published on its own or this is not empty.
    pub through: BTreeSet<String>,
    /// Never empty.
    pub revisions: Vec<ListingRevision>,
    pub created_at: Instant,
    pub created_by: String,
    pub updated_at: Instant,
    pub updated_by: String,
}

impl Listing {
    pub fn asset_id(&self) -> Option<&str> {
        match &self.entity {
            ListingEntity::Asset(id) => Some(id),
            ListingEntity::DataProduct(_) => None,
        }
    }

    pub fn data_product_id(&self) -> Option<&str> {
        match &self.entity {
            ListingEntity::DataProduct(id) => Some(id),
            ListingEntity::Asset(_) => None,
        }
    }

    /// The latest revision's (number, entity revision).
    pub fn latest(&self) -> (u32, u32) {
        self.revisions.last().map_or((0, 0), |r| (r.number, r.entity_revision))
    }

    /// A listing found by SearchListings: ACTIVE, and an asset's only when published on its own.
    pub fn in_catalog(&self) -> bool {
        self.status == "ACTIVE" && (self.data_product_id().is_some() || self.own == OwnPublication::Published)
    }
}

/// An asset in a data product revision (DataProductItem, `itemType` ASSET).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataProductItem {
    pub asset_id: String,
    /// The asset revision as given; none: the asset's latest when the data product is published.
    pub revision: Option<String>,
    pub glossary_terms: Vec<String>,
}

/// One revision of a data product: the whole product as CreateDataProduct or
/// CreateDataProductRevision stated it.
#[derive(Clone, Debug)]
pub struct DataProductRevision {
    pub number: u32,
    pub name: String,
    pub description: Option<String>,
    pub glossary_terms: Vec<String>,
    pub forms: Vec<Form>,
    pub items: Vec<DataProductItem>,
    pub created_at: Instant,
    pub created_by: String,
}

#[derive(Clone, Debug)]
pub struct DataProduct {
    pub id: String,
    pub domain_id: String,
    pub project_id: String,
    /// Never empty.
    pub revisions: Vec<DataProductRevision>,
    /// Its listing once published (in [`crate::state::State::listings`]).
    pub listing: Option<String>,
}

impl DataProduct {
    pub fn latest(&self) -> &DataProductRevision {
        // `revisions` is never empty; an empty one would be a bug in the emulator.
        self.revisions.last().expect("a data product has at least one revision")
    }

    pub fn revision(&self, number: &str) -> Option<&DataProductRevision> {
        self.revisions.iter().find(|r| r.number.to_string() == number)
    }
}

#[derive(Clone, Debug)]
pub struct MetadataGenerationRun {
    pub id: String,
    pub domain_id: String,
    pub project_id: String,
    pub asset_id: String,
    /// The target's revision as given.
    pub asset_revision: Option<String>,
    /// The types as asked, and whether they were asked as `types` (else `type`).
    pub types: Vec<String>,
    pub as_list: bool,
    pub status: &'static str,
    pub created_at: Instant,
    pub created_by: String,
}
