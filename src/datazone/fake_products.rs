//! The fake's data products over its catalog state, keeping the DataZone rules the controller
//! relies on: names unique in the domain (ConflictException), items assets the catalog has, a
//! client token answers what it made, a revision restates the whole product, a listing shows one
//! revision and is ACTIVE or INACTIVE (docs/datazone-semantics.md §14).

use super::fake::{Fake, FakeListing, FakeProduct, not_found};
use super::products::{ListingChange, ProductInfo, ProductListing, ProductRevision, Products};
use super::{DzError, ErrorClass};

fn conflict(operation: &'static str, message: String) -> DzError {
    DzError::new(ErrorClass::Terminal, operation, "ConflictException", message)
}

/// The state's checks of a stated revision: the name free in the domain, every item an asset.
fn check(
    c: &super::fake::CatalogState,
    operation: &'static str,
    revision: &ProductRevision,
    id: Option<&str>,
) -> Result<(), DzError> {
    let taken = c.data_products.values().any(|p| p.latest().name == revision.name && Some(p.id.as_str()) != id);
    if taken {
        return Err(conflict(operation, format!("A data product named {} already exists", revision.name)));
    }
    match revision.items.iter().find(|i| !c.assets.contains_key(&i.asset_id)) {
        Some(missing) => Err(not_found(operation, &missing.asset_id)),
        None => Ok(()),
    }
}

impl Products for Fake {
    async fn create_data_product(
        &self,
        _: &str,
        project: &str,
        revision: &ProductRevision,
    ) -> Result<ProductInfo, DzError> {
        let mut w = self.call("CreateDataProduct", &revision.name)?;
        let c = &mut w.catalog_state;
        if let Some(id) = c.tokens.get(&revision.client_token) {
            return c.data_products.get(id).map(|p| p.info(1)).ok_or_else(|| not_found("CreateDataProduct", id));
        }
        check(c, "CreateDataProduct", revision, None)?;
        let id = c.id("dp");
        let product = FakeProduct {
            id: id.clone(),
            project_id: project.into(),
            revisions: vec![revision.clone()],
            listing: None,
        };
        let info = product.info(1);
        c.data_products.insert(id.clone(), product);
        c.tokens.insert(revision.client_token.clone(), id);
        Ok(info)
    }

    async fn revise_data_product(&self, _: &str, id: &str, revision: &ProductRevision) -> Result<ProductInfo, DzError> {
        let mut w = self.call("CreateDataProductRevision", id)?;
        let c = &mut w.catalog_state;
        if let Some(number) = c.tokens.get(&revision.client_token).and_then(|n| n.parse::<usize>().ok()) {
            return c.data_products.get(id).map(|p| p.info(number)).ok_or_else(|| not_found("CreateDataProduct", id));
        }
        check(c, "CreateDataProductRevision", revision, Some(id))?;
        let p = c.data_products.get_mut(id).ok_or_else(|| not_found("CreateDataProductRevision", id))?;
        p.revisions.push(revision.clone());
        let info = p.info(p.revisions.len());
        c.tokens.insert(revision.client_token.clone(), info.revision.clone());
        Ok(info)
    }

    async fn find_data_products(&self, _: &str, project: &str, name: &str) -> Result<Vec<ProductInfo>, DzError> {
        let w = self.call("Search", "DATA_PRODUCT")?;
        let products = w.catalog_state.data_products.values();
        let named = products.filter(|p| p.project_id == project && p.latest().name == name);
        Ok(named
            .map(|p| ProductInfo { revision: String::new(), items: Vec::new(), ..p.info(p.revisions.len()) })
            .collect())
    }

    async fn get_data_product(&self, _: &str, id: &str) -> Result<ProductInfo, DzError> {
        let w = self.call("GetDataProduct", id)?;
        let p = w.catalog_state.data_products.get(id).ok_or_else(|| not_found("GetDataProduct", id))?;
        Ok(p.info(p.revisions.len()))
    }

    async fn change_data_product_listing(
        &self,
        _: &str,
        id: &str,
        revision: Option<&str>,
        publish: bool,
        client_token: &str,
    ) -> Result<ListingChange, DzError> {
        let mut w = self.call("CreateListingChangeSet", id)?;
        let c = &mut w.catalog_state;
        let p = c.data_products.get_mut(id).ok_or_else(|| not_found("CreateListingChangeSet", id))?;
        let shown = revision.map(str::to_string).unwrap_or_else(|| p.revisions.len().to_string());
        let listing = match (&mut p.listing, publish) {
            (Some(l), true) => {
                // The revision it shows already, ACTIVE: no new listing revision, as in DataZone.
                if !(l.active && l.shows.last() == Some(&shown)) {
                    l.shows.push(shown);
                }
                l.active = true;
                l
            }
            (None, true) => {
                let listing_id = format!("listing-{id}");
                p.listing.insert(FakeListing { id: listing_id, shows: vec![shown], active: true })
            }
            (Some(l), false) => {
                l.active = false;
                l
            }
            (None, false) => return Err(not_found("CreateListingChangeSet", &format!("listing of {id}"))),
        };
        let answer = ListingChange {
            listing_id: listing.id.clone(),
            listing_revision: listing.shows.len().to_string(),
            status: if listing.active { "ACTIVE" } else { "INACTIVE" }.into(),
        };
        c.tokens.insert(client_token.into(), answer.listing_revision.clone());
        Ok(answer)
    }

    async fn data_product_listings(&self, _: &str, project: &str) -> Result<Vec<ProductListing>, DzError> {
        let w = self.call("SearchListings", "DATA_PRODUCT")?;
        let c = &w.catalog_state;
        let listed = c.data_products.values().filter(|p| p.project_id == project);
        Ok(listed
            .filter_map(|p| {
                let l = p.listing.as_ref().filter(|l| l.active)?;
                let shows = l.shows.last()?;
                let r = &p.revisions[shows.parse::<usize>().ok()? - 1];
                Some(ProductListing {
                    listing_id: l.id.clone(),
                    listing_revision: l.shows.len().to_string(),
                    product_id: p.id.clone(),
                    product_revision: shows.clone(),
                    name: r.name.clone(),
                    description: r.description.clone(),
                    items: r.items.len(),
                })
            })
            .collect())
    }

    async fn delete_data_product(&self, _: &str, id: &str) -> Result<(), DzError> {
        let mut w = self.call("DeleteDataProduct", id)?;
        if w.catalog_state.subscriptions.subscribed(id) {
            return Err(conflict("DeleteDataProduct", format!("data product {id} has subscribers")));
        }
        w.catalog_state.data_products.remove(id).map(|_| ()).ok_or_else(|| not_found("DeleteDataProduct", id))
    }
}
