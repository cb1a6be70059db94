//! Imported data products as a multi-document YAML stream, checked against the CRD's CEL rules
//! first so that what is printed is what the API server accepts.

use thiserror::Error;

use crate::crd::RedshiftDataProduct;
use crate::crdgen::join_documents;

#[derive(Debug, Error)]
pub enum RenderError {
    #[error("{name}: rejected by the RedshiftDataProduct admission rules: {errors}")]
    Invalid { name: String, errors: String },
    #[error("{name}: cannot render as YAML: {source}")]
    Yaml { name: String, source: serde_saphyr::ser::Error },
}

/// Renders `products` as YAML documents, each introduced by `---`.
pub fn render_manifests(products: &[RedshiftDataProduct]) -> Result<String, RenderError> {
    let plain: Vec<(RedshiftDataProduct, Option<String>)> = products.iter().map(|p| (p.clone(), None)).collect();
    render_commented(&plain)
}

/// Renders each product as a YAML document with its comment (if any) above it.
pub fn render_commented(products: &[(RedshiftDataProduct, Option<String>)]) -> Result<String, RenderError> {
    let docs = products
        .iter()
        .map(|(product, comment)| {
            let name = product.metadata.name.clone().unwrap_or_default();
            product
                .validate_cel()
                .map_err(|errors| RenderError::Invalid { name: name.clone(), errors: errors.to_string() })?;
            let yaml = serde_saphyr::to_string(product).map_err(|source| RenderError::Yaml { name, source })?;
            Ok(match comment {
                Some(c) => format!("# {c}\n{yaml}"),
                None => yaml,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(join_documents(&docs))
}
