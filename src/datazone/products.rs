//! DataZone data products: assets grouped into one thing a consumer finds and subscribes to
//! (docs/datazone-semantics.md §14). Plain types, as the rest of [`super`].

use super::DzError;
use super::catalog::Form;

/// An asset as an item of a data product revision.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProductItem {
    pub asset_id: String,
    /// Glossary term IDs of the asset inside the data product (at most 2).
    pub glossary_terms: Vec<String>,
}

/// Everything a data product revision is to have: a revision restates the whole product (there
/// is no patch), so this is the whole of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductRevision {
    pub name: String,
    pub description: Option<String>,
    /// Glossary term IDs.
    pub glossary_terms: Vec<String>,
    pub forms: Vec<Form>,
    pub items: Vec<ProductItem>,
    pub client_token: String,
}

/// A data product's latest (or asked) revision as DataZone answers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductInfo {
    pub id: String,
    pub revision: String,
    pub name: String,
    pub description: Option<String>,
    pub project_id: String,
    /// The asset IDs of its items (none in a search answer).
    pub items: Vec<String>,
}

/// What a listing change set answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListingChange {
    pub listing_id: String,
    pub listing_revision: String,
    /// CREATING, ACTIVE or INACTIVE.
    pub status: String,
}

/// A data product's listing in the catalog, as `SearchListings` shows it (only what is in the
/// catalog is found: an unpublished data product is not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductListing {
    pub listing_id: String,
    pub listing_revision: String,
    pub product_id: String,
    /// The data product revision the listing shows.
    pub product_revision: String,
    pub name: String,
    pub description: Option<String>,
    /// How many assets it lists.
    pub items: usize,
}

/// Data product calls, made as the connection's role.
pub trait Products: Send + Sync {
    /// Makes the data product (its revision 1) in `project`.
    fn create_data_product(
        &self,
        domain: &str,
        project: &str,
        revision: &ProductRevision,
    ) -> impl Future<Output = Result<ProductInfo, DzError>> + Send;
    /// Makes its next revision.
    fn revise_data_product(
        &self,
        domain: &str,
        id: &str,
        revision: &ProductRevision,
    ) -> impl Future<Output = Result<ProductInfo, DzError>> + Send;
    /// The project's data products named `name` (`Search`, scope DATA_PRODUCT): what a name
    /// DataZone refused as taken is taken by.
    fn find_data_products(
        &self,
        domain: &str,
        project: &str,
        name: &str,
    ) -> impl Future<Output = Result<Vec<ProductInfo>, DzError>> + Send;
    /// Its latest revision (`GetDataProduct`).
    fn get_data_product(&self, domain: &str, id: &str) -> impl Future<Output = Result<ProductInfo, DzError>> + Send;
    /// PUBLISH (`publish`) that revision of the data product, or UNPUBLISH it.
    fn change_data_product_listing(
        &self,
        domain: &str,
        id: &str,
        revision: Option<&str>,
        publish: bool,
        client_token: &str,
    ) -> impl Future<Output = Result<ListingChange, DzError>> + Send;
    /// Every data product listing of the project in the catalog (all pages of `SearchListings`).
    fn data_product_listings(
        &self,
        domain: &str,
        project: &str,
    ) -> impl Future<Output = Result<Vec<ProductListing>, DzError>> + Send;
    fn delete_data_product(&self, domain: &str, id: &str) -> impl Future<Output = Result<(), DzError>> + Send;
}
