//! [`Catalog`] over the AWS SDK.

use aws_sdk_datazone::types as dz;

use super::catalog::{AssetInfo, AssetRevision, Catalog, GlossaryInfo, TermInfo, TermSpec};
use super::sdk::SdkDataZone;
use super::sdk_convert::{form_of, forms_input, sdk_error};
use super::{DzError, ErrorClass};

/// Search's page size limit [model: Search `maxResults` 1–50].
const SEARCH_PAGE: i32 = 50;

fn term_of(t: &dz::GlossaryTermItem) -> TermInfo {
    TermInfo {
        id: t.id().to_string(),
        name: t.name().to_string(),
        glossary_id: t.glossary_id().to_string(),
        short_description: t.short_description().map(str::to_string),
        long_description: t.long_description().map(str::to_string),
        enabled: t.status() == &dz::GlossaryTermStatus::Enabled,
    }
}

fn glossary_of(g: &dz::GlossaryItem) -> GlossaryInfo {
    GlossaryInfo {
        id: g.id().to_string(),
        name: g.name().to_string(),
        project_id: g.owning_project_id().to_string(),
        description: g.description().map(str::to_string),
        enabled: g.status() == &dz::GlossaryStatus::Enabled,
    }
}

impl SdkDataZone {
    /// Every item of a Search of `scope` (all pages).
    async fn search_all(
        &self,
        domain: &str,
        scope: dz::InventorySearchScope,
        project: Option<&str>,
    ) -> Result<Vec<dz::SearchInventoryResultItem>, DzError> {
        self.client()
            .search()
            .domain_identifier(domain)
            .search_scope(scope)
            .set_owning_project_identifier(project.map(str::to_string))
            .into_paginator()
            .page_size(SEARCH_PAGE)
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error("Search", e))
    }
}

impl Catalog for SdkDataZone {
    async fn glossaries(&self, domain: &str, project: Option<&str>) -> Result<Vec<GlossaryInfo>, DzError> {
        let items = self.search_all(domain, dz::InventorySearchScope::Glossary, project).await?;
        Ok(items
            .iter()
            .filter_map(|i| match i {
                dz::SearchInventoryResultItem::GlossaryItem(g) => Some(glossary_of(g)),
                _ => None,
            })
            .collect())
    }

    async fn glossary_terms(&self, domain: &str, project: Option<&str>) -> Result<Vec<TermInfo>, DzError> {
        let items = self.search_all(domain, dz::InventorySearchScope::GlossaryTerm, project).await?;
        Ok(items
            .iter()
            .filter_map(|i| match i {
                dz::SearchInventoryResultItem::GlossaryTermItem(t) => Some(term_of(t)),
                _ => None,
            })
            .collect())
    }

    async fn create_glossary(
        &self,
        domain: &str,
        project: &str,
        name: &str,
        description: Option<&str>,
        client_token: &str,
    ) -> Result<GlossaryInfo, DzError> {
        let out = self
            .client()
            .create_glossary()
            .domain_identifier(domain)
            .owning_project_identifier(project)
            .name(name)
            .set_description(description.map(str::to_string))
            .status(dz::GlossaryStatus::Enabled)
            .client_token(client_token)
            .send()
            .await
            .map_err(|e| sdk_error("CreateGlossary", e))?;
        Ok(GlossaryInfo {
            id: out.id().to_string(),
            name: out.name().to_string(),
            project_id: out.owning_project_id().to_string(),
            description: out.description().map(str::to_string),
            enabled: out.status() != Some(&dz::GlossaryStatus::Disabled),
        })
    }

    async fn update_glossary(&self, domain: &str, id: &str, description: &str) -> Result<(), DzError> {
        self.client()
            .update_glossary()
            .domain_identifier(domain)
            .identifier(id)
            .description(description)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("UpdateGlossary", e))
    }

    async fn create_glossary_term(
        &self,
        domain: &str,
        glossary: &str,
        term: &TermSpec,
        client_token: &str,
    ) -> Result<TermInfo, DzError> {
        let out = self
            .client()
            .create_glossary_term()
            .domain_identifier(domain)
            .glossary_identifier(glossary)
            .name(&term.name)
            .set_short_description(term.short_description.clone())
            .set_long_description(term.long_description.clone())
            .status(dz::GlossaryTermStatus::Enabled)
            .client_token(client_token)
            .send()
            .await
            .map_err(|e| sdk_error("CreateGlossaryTerm", e))?;
        Ok(TermInfo {
            id: out.id().to_string(),
            name: out.name().to_string(),
            glossary_id: out.glossary_id().to_string(),
            short_description: out.short_description().map(str::to_string),
            long_description: out.long_description().map(str::to_string),
            enabled: out.status() == &dz::GlossaryTermStatus::Enabled,
        })
    }

    async fn update_glossary_term(&self, domain: &str, id: &str, term: &TermSpec) -> Result<(), DzError> {
        self.client()
            .update_glossary_term()
            .domain_identifier(domain)
            .identifier(id)
            .name(&term.name)
            // An empty description clears one written before.
            .short_description(term.short_description.clone().unwrap_or_default())
            .long_description(term.long_description.clone().unwrap_or_default())
            // A declared term is one data products may use.
            .status(dz::GlossaryTermStatus::Enabled)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("UpdateGlossaryTerm", e))
    }

    async fn get_asset(&self, domain: &str, id: &str) -> Result<AssetInfo, DzError> {
        let out = self
            .client()
            .get_asset()
            .domain_identifier(domain)
            .identifier(id)
            .send()
            .await
            .map_err(|e| sdk_error("GetAsset", e))?;
        Ok(AssetInfo {
            id: out.id().to_string(),
            name: out.name().to_string(),
            revision: out.revision().to_string(),
            description: out.description().map(str::to_string),
            glossary_terms: out.glossary_terms().to_vec(),
            forms: out.forms_output().iter().map(form_of).collect(),
            listed: out.listing().is_some_and(|l| l.listing_status() != &dz::ListingStatus::Inactive),
        })
    }

    async fn create_asset_revision(&self, domain: &str, revision: &AssetRevision) -> Result<String, DzError> {
        let out = self
            .client()
            .create_asset_revision()
            .domain_identifier(domain)
            .identifier(&revision.asset_id)
            .name(&revision.name)
            .set_description(revision.description.clone())
            // The model allows 1–20 terms: none is said by leaving the member out.
            .set_glossary_terms((!revision.glossary_terms.is_empty()).then(|| revision.glossary_terms.clone()))
            .set_forms_input(Some(forms_input(&revision.forms)))
            .client_token(&revision.client_token)
            .send()
            .await
            .map_err(|e| sdk_error("CreateAssetRevision", e))?;
        Ok(out.revision().to_string())
    }

    async fn publish_asset(
        &self,
        domain: &str,
        asset: &str,
        revision: &str,
        client_token: &str,
    ) -> Result<String, DzError> {
        let out = self
            .client()
            .create_listing_change_set()
            .domain_identifier(domain)
            .entity_identifier(asset)
            .entity_type(dz::EntityType::Asset)
            .entity_revision(revision)
            .action(dz::ChangeAction::Publish)
            .client_token(client_token)
            .send()
            .await
            .map_err(|e| sdk_error("CreateListingChangeSet", e))?;
        Ok(out.listing_revision().to_string())
    }

    async fn unpublish_asset(&self, domain: &str, asset: &str, client_token: &str) -> Result<(), DzError> {
        self.client()
            .create_listing_change_set()
            .domain_identifier(domain)
            .entity_identifier(asset)
            .entity_type(dz::EntityType::Asset)
            .action(dz::ChangeAction::Unpublish)
            .client_token(client_token)
            .send()
            .await
            .map_err(|e| sdk_error("CreateListingChangeSet", e))?;
        Ok(())
    }

    async fn delete_asset(&self, domain: &str, asset: &str) -> Result<(), DzError> {
        self.client()
            .delete_asset()
            .domain_identifier(domain)
            .identifier(asset)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteAsset", e))?;
        Ok(())
    }

    async fn start_metadata_generation(
        &self,
        domain: &str,
        project: &str,
        asset: &str,
        types: &[&str],
        client_token: &str,
    ) -> Result<String, DzError> {
        let target = dz::MetadataGenerationRunTarget::builder()
            .r#type(dz::MetadataGenerationTargetType::Asset)
            .identifier(asset)
            .build()
            .map_err(|e| {
                DzError::new(ErrorClass::Terminal, "StartMetadataGenerationRun", "InvalidRequest", e.to_string())
            })?;
        let types = types.iter().map(|t| dz::MetadataGenerationRunType::from(*t)).collect();
        let out = self
            .client()
            .start_metadata_generation_run()
            .domain_identifier(domain)
            .owning_project_identifier(project)
            .target(target)
            .set_types(Some(types))
            .client_token(client_token)
            .send()
            .await
            .map_err(|e| sdk_error("StartMetadataGenerationRun", e))?;
        Ok(out.id().to_string())
    }
}
