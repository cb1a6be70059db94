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
    let docs = products
        .iter()
        .map(|product| {
            let name = product.metadata.name.clone().unwrap_or_default();
            product
                .validate_cel()
                .map_err(|errors| RenderError::Invalid { name: name.clone(), errors: errors.to_string() })?;
            serde_saphyr::to_string(product).map_err(|source| RenderError::Yaml { name, source })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(join_documents(&docs))
}
