//! [`Products`] over the AWS SDK.

use aws_sdk_datazone::types as dz;

use super::DzError;
use super::products::{ListingChange, ProductInfo, ProductListing, ProductRevision, Products};
use super::sdk::SdkDataZone;
use super::sdk_convert::{build_error, filter, forms_input, sdk_error};

/// Search's and SearchListings' page size limit [model: `maxResults` 1–50].
const SEARCH_PAGE: i32 = 50;

/// The data product an answer of Create, CreateRevision or Get shows (three output types of the
/// same members).
macro_rules! product_info {
    ($out:expr) => {
        ProductInfo {
            id: $out.id().to_string(),
            revision: $out.revision().to_string(),
            name: $out.name().to_string(),
            description: $out.description().map(str::to_string),
            project_id: $out.owning_project_id().to_string(),
            items: $out.items().iter().map(|i| i.identifier().to_string()).collect(),
        }
    };
}

fn items(operation: &'static str, revision: &ProductRevision) -> Result<Vec<dz::DataProductItem>, DzError> {
    revision
        .items
        .iter()
        .map(|i| {
            dz::DataProductItem::builder()
                .item_type(dz::DataProductItemType::Asset)
                .identifier(&i.asset_id)
                // The model allows 1–2 terms: none is said by leaving the member out.
                .set_glossary_terms((!i.glossary_terms.is_empty()).then(|| i.glossary_terms.clone()))
                .build()
                .map_err(|e| build_error(operation, e))
        })
        .collect()
}

/// The model's 1–20 terms: none is said by leaving the member out.
fn terms(revision: &ProductRevision) -> Option<Vec<String>> {
    (!revision.glossary_terms.is_empty()).then(|| revision.glossary_terms.clone())
}

impl Products for SdkDataZone {
    async fn create_data_product(
        &self,
        domain: &str,
        project: &str,
        revision: &ProductRevision,
    ) -> Result<ProductInfo, DzError> {
        let out = self
            .client()
            .create_data_product()
            .domain_identifier(domain)
            .owning_project_identifier(project)
            .name(&revision.name)
            .set_description(revision.description.clone())
            .set_glossary_terms(terms(revision))
            .set_forms_input(Some(forms_input(&revision.forms)))
            .set_items(Some(items("CreateDataProduct", revision)?))
            .client_token(&revision.client_token)
            .send()
            .await
            .map_err(|e| sdk_error("CreateDataProduct", e))?;
        Ok(product_info!(out))
    }

    async fn revise_data_product(
        &self,
        domain: &str,
        id: &str,
        revision: &ProductRevision,
    ) -> Result<ProductInfo, DzError> {
        let out = self
            .client()
            .create_data_product_revision()
            .domain_identifier(domain)
            .identifier(id)
            .name(&revision.name)
            .set_description(revision.description.clone())
            .set_glossary_terms(terms(revision))
            .set_forms_input(Some(forms_input(&revision.forms)))
            .set_items(Some(items("CreateDataProductRevision", revision)?))
            .client_token(&revision.client_token)
            .send()
            .await
            .map_err(|e| sdk_error("CreateDataProductRevision", e))?;
        Ok(product_info!(out))
    }

    async fn find_data_products(&self, domain: &str, project: &str, name: &str) -> Result<Vec<ProductInfo>, DzError> {
        let items: Vec<dz::SearchInventoryResultItem> = self
            .client()
            .search()
            .domain_identifier(domain)
            .search_scope(dz::InventorySearchScope::DataProduct)
            .owning_project_identifier(project)
            .search_text(name)
            .into_paginator()
            .page_size(SEARCH_PAGE)
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error("Search", e))?;
        Ok(items
            .iter()
            .filter_map(|i| match i {
                // The search text matches parts of names and descriptions: only this name counts.
                dz::SearchInventoryResultItem::DataProductItem(p) if p.name() == name => Some(ProductInfo {
                    id: p.id().to_string(),
                    // A search item names no revision.
                    revision: String::new(),
                    name: p.name().to_string(),
                    description: p.description().map(str::to_string),
                    project_id: p.owning_project_id().to_string(),
                    items: Vec::new(),
                }),
                _ => None,
            })
            .collect())
    }

    async fn get_data_product(&self, domain: &str, id: &str) -> Result<ProductInfo, DzError> {
        let out = self
            .client()
            .get_data_product()
            .domain_identifier(domain)
            .identifier(id)
            .send()
            .await
            .map_err(|e| sdk_error("GetDataProduct", e))?;
        Ok(product_info!(out))
    }

    async fn change_data_product_listing(
        &self,
        domain: &str,
        id: &str,
        revision: Option<&str>,
        publish: bool,
        client_token: &str,
    ) -> Result<ListingChange, DzError> {
        let action = if publish { dz::ChangeAction::Publish } else { dz::ChangeAction::Unpublish };
        let out = self
            .client()
            .create_listing_change_set()
            .domain_identifier(domain)
            .entity_identifier(id)
            .entity_type(dz::EntityType::DataProduct)
            .set_entity_revision(revision.map(str::to_string))
            .action(action)
            .client_token(client_token)
            .send()
            .await
            .map_err(|e| sdk_error("CreateListingChangeSet", e))?;
        Ok(ListingChange {
            listing_id: out.listing_id().to_string(),
            listing_revision: out.listing_revision().to_string(),
            status: out.status().as_str().to_string(),
        })
    }

    async fn data_product_listings(&self, domain: &str, project: &str) -> Result<Vec<ProductListing>, DzError> {
        let filters =
            dz::FilterClause::And(vec![filter("owningProjectId", project)?, filter("entityType", "DATA_PRODUCT")?]);
        let items: Vec<dz::SearchResultItem> = self
            .client()
            .search_listings()
            .domain_identifier(domain)
            .filters(filters)
            .into_paginator()
            .page_size(SEARCH_PAGE)
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error("SearchListings", e))?;
        Ok(items
            .iter()
            .filter_map(|i| match i {
                dz::SearchResultItem::DataProductListing(l) => Some(ProductListing {
                    listing_id: l.listing_id()?.to_string(),
                    listing_revision: l.listing_revision().unwrap_or_default().to_string(),
                    product_id: l.entity_id()?.to_string(),
                    product_revision: l.entity_revision().unwrap_or_default().to_string(),
                    name: l.name().unwrap_or_default().to_string(),
                    description: l.description().map(str::to_string),
                    items: l.items().len(),
                }),
                _ => None,
            })
            .collect())
    }

    async fn delete_data_product(&self, domain: &str, id: &str) -> Result<(), DzError> {
        self.client()
            .delete_data_product()
            .domain_identifier(domain)
            .identifier(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("DeleteDataProduct", e))
    }
}
