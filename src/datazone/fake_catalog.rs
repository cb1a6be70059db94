//! The fake's catalog calls over its catalog state ([`super::fake::CatalogState`]: assets with
//! revisions, listings, glossaries and terms, metadata generation runs), keeping the DataZone
//! rules the controller relies on (a client token answers the same revision or term; a term must
//! exist and be enabled; a new revision has exactly what it is given)
//! (docs/datazone-semantics.md §13).

use super::catalog::{AssetInfo, AssetRevision, Catalog, GlossaryInfo, TermInfo, TermSpec};
use super::fake::{Fake, TECHNICAL_FORM, not_found};
use super::{DzError, ErrorClass};

fn invalid(operation: &'static str, message: String) -> DzError {
    DzError::new(ErrorClass::Terminal, operation, "ValidationException", message)
}

impl Catalog for Fake {
    async fn glossaries(&self, _: &str, project: Option<&str>) -> Result<Vec<GlossaryInfo>, DzError> {
        let w = self.call("Search", "GLOSSARY")?;
        let all = w.catalog_state.glossaries.iter();
        Ok(all.filter(|g| project.is_none_or(|p| g.project_id == p)).cloned().collect())
    }

    async fn glossary_terms(&self, _: &str, project: Option<&str>) -> Result<Vec<TermInfo>, DzError> {
        let w = self.call("Search", "GLOSSARY_TERM")?;
        let c = &w.catalog_state;
        let in_project = |t: &&TermInfo| {
            project.is_none_or(|p| c.glossaries.iter().any(|g| g.id == t.glossary_id && g.project_id == p))
        };
        Ok(c.terms.iter().filter(in_project).cloned().collect())
    }

    async fn create_glossary(
        &self,
        _: &str,
        project: &str,
        name: &str,
        description: Option<&str>,
        client_token: &str,
    ) -> Result<GlossaryInfo, DzError> {
        let mut w = self.call("CreateGlossary", name)?;
        let c = &mut w.catalog_state;
        if let Some(id) = c.tokens.get(client_token) {
            return c.glossaries.iter().find(|g| &g.id == id).cloned().ok_or_else(|| not_found("CreateGlossary", id));
        }
        if c.glossaries.iter().any(|g| g.name == name) {
            let message = format!("Conflict with glossary {name}");
            return Err(DzError::new(ErrorClass::Terminal, "CreateGlossary", "ConflictException", message));
        }
        let id = c.id("glossary");
        let g = GlossaryInfo {
            id: id.clone(),
            name: name.into(),
            project_id: project.into(),
            description: description.map(Into::into),
            enabled: true,
        };
        c.glossaries.push(g.clone());
        c.tokens.insert(client_token.into(), id);
        Ok(g)
    }

    async fn update_glossary(&self, _: &str, id: &str, description: &str) -> Result<(), DzError> {
        let mut w = self.call("UpdateGlossary", id)?;
        let g = w
            .catalog_state
            .glossaries
            .iter_mut()
            .find(|g| g.id == id)
            .ok_or_else(|| not_found("UpdateGlossary", id))?;
        g.description = Some(description.into());
        Ok(())
    }

    async fn create_glossary_term(
        &self,
        _: &str,
        glossary: &str,
        term: &TermSpec,
        client_token: &str,
    ) -> Result<TermInfo, DzError> {
        let mut w = self.call("CreateGlossaryTerm", &term.name)?;
        let c = &mut w.catalog_state;
        if let Some(id) = c.tokens.get(client_token) {
            return c.terms.iter().find(|t| &t.id == id).cloned().ok_or_else(|| not_found("CreateGlossaryTerm", id));
        }
        if !c.glossaries.iter().any(|g| g.id == glossary) {
            return Err(not_found("CreateGlossaryTerm", glossary));
        }
        if c.terms.iter().any(|t| t.glossary_id == glossary && t.name == term.name) {
            let message = format!("Conflict with term {}", term.name);
            return Err(DzError::new(ErrorClass::Terminal, "CreateGlossaryTerm", "ConflictException", message));
        }
        let id = c.id("term");
        let t = TermInfo {
            id: id.clone(),
            name: term.name.clone(),
            glossary_id: glossary.into(),
            short_description: term.short_description.clone(),
            long_description: term.long_description.clone(),
            enabled: true,
        };
        c.terms.push(t.clone());
        c.tokens.insert(client_token.into(), id);
        Ok(t)
    }

    async fn update_glossary_term(&self, _: &str, id: &str, term: &TermSpec) -> Result<(), DzError> {
        let mut w = self.call("UpdateGlossaryTerm", id)?;
        let t =
            w.catalog_state.terms.iter_mut().find(|t| t.id == id).ok_or_else(|| not_found("UpdateGlossaryTerm", id))?;
        t.name = term.name.clone();
        t.short_description = term.short_description.clone().filter(|d| !d.is_empty());
        t.long_description = term.long_description.clone().filter(|d| !d.is_empty());
        t.enabled = true;
        Ok(())
    }

    async fn get_asset(&self, _: &str, id: &str) -> Result<AssetInfo, DzError> {
        let w = self.call("GetAsset", id)?;
        w.catalog_state.assets.get(id).cloned().ok_or_else(|| not_found("GetAsset", id))
    }

    async fn create_asset_revision(&self, _: &str, revision: &AssetRevision) -> Result<String, DzError> {
        let mut w = self.call("CreateAssetRevision", &revision.asset_id)?;
        let c = &mut w.catalog_state;
        if let Some(made) = c.tokens.get(&revision.client_token) {
            return Ok(made.clone());
        }
        for term in &revision.glossary_terms {
            if !c.terms.iter().any(|t| &t.id == term && t.enabled) {
                return Err(invalid("CreateAssetRevision", format!("glossary term {term} does not exist")));
            }
        }
        let asset =
            c.assets.get_mut(&revision.asset_id).ok_or_else(|| not_found("CreateAssetRevision", &revision.asset_id))?;
        let number = asset.revision.parse::<u32>().unwrap_or(0) + 1;
        let technical = asset.forms.iter().filter(|f| f.name == TECHNICAL_FORM).cloned();
        let given = revision.forms.iter().filter(|f| f.name != TECHNICAL_FORM).cloned();
        asset.forms = technical.chain(given).collect();
        asset.name = revision.name.clone();
        asset.description = revision.description.clone();
        asset.glossary_terms = revision.glossary_terms.clone();
        asset.revision = number.to_string();
        c.tokens.insert(revision.client_token.clone(), number.to_string());
        Ok(number.to_string())
    }

    async fn publish_asset(&self, _: &str, asset: &str, revision: &str, client_token: &str) -> Result<String, DzError> {
        let mut w = self.call("CreateListingChangeSet", asset)?;
        let c = &mut w.catalog_state;
        if let Some(made) = c.tokens.get(client_token) {
            return Ok(made.clone());
        }
        let a = c.assets.get_mut(asset).ok_or_else(|| not_found("CreateListingChangeSet", asset))?;
        a.listed = true;
        let revisions = c.listings.entry(asset.into()).or_default();
        // The revision the listing shows already: no new listing revision, as in DataZone.
        if revisions.last().map(String::as_str) != Some(revision) {
            revisions.push(revision.into());
        }
        let listing_revision = revisions.len().to_string();
        c.tokens.insert(client_token.into(), listing_revision.clone());
        Ok(listing_revision)
    }

    async fn unpublish_asset(&self, _: &str, asset: &str, _: &str) -> Result<(), DzError> {
        let mut w = self.call("CreateListingChangeSet", &format!("UNPUBLISH {asset}"))?;
        let a = w.catalog_state.assets.get_mut(asset).ok_or_else(|| not_found("CreateListingChangeSet", asset))?;
        if !a.listed {
            return Err(not_found("CreateListingChangeSet", asset));
        }
        a.listed = false;
        Ok(())
    }

    async fn delete_asset(&self, _: &str, asset: &str) -> Result<(), DzError> {
        let mut w = self.call("DeleteAsset", asset)?;
        let c = &mut w.catalog_state;
        let conflict =
            |message: String| DzError::new(ErrorClass::Terminal, "DeleteAsset", "ConflictException", message);
        if let Some(p) = c.data_products.values().find(|p| p.latest().items.iter().any(|i| i.asset_id == asset)) {
            return Err(conflict(format!("asset {asset} is an item of data product {}", p.id)));
        }
        if c.subscriptions.subscribed(asset) {
            return Err(conflict(format!("asset {asset} has subscribers")));
        }
        c.assets.remove(asset).map(|_| ()).ok_or_else(|| not_found("DeleteAsset", asset))
    }

    async fn start_metadata_generation(
        &self,
        _: &str,
        _: &str,
        asset: &str,
        types: &[&str],
        client_token: &str,
    ) -> Result<String, DzError> {
        let mut w = self.call("StartMetadataGenerationRun", asset)?;
        let c = &mut w.catalog_state;
        if let Some(made) = c.tokens.get(client_token) {
            return Ok(made.clone());
        }
        let id = c.id("mdgen");
        c.generation_runs.insert(id.clone(), (asset.into(), types.iter().map(|t| t.to_string()).collect()));
        c.tokens.insert(client_token.into(), id.clone());
        Ok(id)
    }
}
