//! Rendering the CRDs as YAML: on stdout for `crdgen`, and one file per CRD under `crds/`; and as
//! Markdown, the API reference under `docs/` ([`reference`]).

pub mod reference;

use std::path::{Path, PathBuf};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use thiserror::Error;

use crate::crd::all_crds;

#[derive(Debug, Error)]
pub enum CrdgenError {
    #[error("cannot render CRD {name} as YAML: {source}")]
    Render { name: String, source: serde_saphyr::ser::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// The file name of a CRD under `crds/`: `<group>_<plural>.yaml`, as controller-gen names them.
pub fn file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}_{}.yaml", crd.spec.group, crd.spec.names.plural)
}

/// One CRD as a YAML document (without the `---` separator).
pub fn render(crd: &CustomResourceDefinition) -> Result<String, CrdgenError> {
    serde_saphyr::to_string(crd)
        .map_err(|source| CrdgenError::Render { name: crd.metadata.name.clone().unwrap_or_default(), source })
}

/// Every CRD as one multi-document YAML stream.
pub fn render_all() -> Result<String, CrdgenError> {
    let docs = all_crds().iter().map(render).collect::<Result<Vec<_>, _>>()?;
    Ok(join_documents(&docs))
}

/// Joins YAML documents into one stream, each introduced by `---`.
pub fn join_documents(docs: &[String]) -> String {
    docs.iter().map(|d| format!("---\n{}", ensure_newline(d))).collect()
}

fn ensure_newline(doc: &str) -> String {
    if doc.ends_with('\n') { doc.to_string() } else { format!("{doc}\n") }
}

/// Every CRD with the file name it has under `crds/` and its content.
pub fn files() -> Result<Vec<(String, String)>, CrdgenError> {
    all_crds().iter().map(|crd| Ok((file_name(crd), ensure_newline(&render(crd)?)))).collect()
}

/// Writes one file per CRD into `dir`, replacing what is there.
pub fn write_files(dir: &Path) -> Result<Vec<PathBuf>, CrdgenError> {
    std::fs::create_dir_all(dir).map_err(|source| CrdgenError::Write { path: dir.to_path_buf(), source })?;
    files()?
        .into_iter()
        .map(|(name, content)| {
            let path = dir.join(name);
            std::fs::write(&path, content).map_err(|source| CrdgenError::Write { path: path.clone(), source })?;
            Ok(path)
        })
        .collect()
}

/// The chart's CRD templates: each CRD with `helm.sh/resource-policy: keep` (uninstalling the
/// chart must never delete the users' data products), rendered only when `crds.install` is set.
pub fn chart_templates() -> Result<Vec<(String, String)>, CrdgenError> {
    all_crds()
        .into_iter()
        .map(|mut crd| {
            crd.metadata
                .annotations
                .get_or_insert_with(Default::default)
                .insert("helm.sh/resource-policy".into(), "keep".into());
            let body = ensure_newline(&render(&crd)?);
            Ok((file_name(&crd), format!("{{{{- if .Values.crds.install }}}}\n{body}{{{{- end }}}}\n")))
        })
        .collect()
}

/// Writes the chart's CRD templates into `dir` (the chart's `templates/crds/`).
pub fn write_chart_templates(dir: &Path) -> Result<Vec<PathBuf>, CrdgenError> {
    std::fs::create_dir_all(dir).map_err(|source| CrdgenError::Write { path: dir.to_path_buf(), source })?;
    chart_templates()?
        .into_iter()
        .map(|(name, content)| {
            let path = dir.join(name);
            std::fs::write(&path, content).map_err(|source| CrdgenError::Write { path: path.clone(), source })?;
            Ok(path)
        })
        .collect()
}

/// The API reference page (`docs/reference/api.md`) for every CRD.
pub fn api_reference() -> String {
    reference::page(&all_crds())
}

/// Writes the API reference page to `path`.
pub fn write_api_reference(path: &Path) -> Result<PathBuf, CrdgenError> {
    let write_error = |source| CrdgenError::Write { path: path.to_path_buf(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(write_error)?;
    }
    std::fs::write(path, api_reference()).map_err(write_error)?;
    Ok(path.to_path_buf())
}
