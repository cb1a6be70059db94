//! `import-payload`: the reference architecture's registration payload → `RedshiftDataProduct`
//! manifests.

pub mod discover;
mod import;
mod model;
mod parse;
mod render;

pub use import::{DETAIL_TYPE_ANNOTATION, ImportOptions, SOURCE_ANNOTATION, dataset_of, import, payload_of};
pub use model::{Dataset, Payload, PayloadSchema};
pub use parse::{PayloadError, PayloadErrors, parse_payload};
pub use render::{RenderError, render_commented, render_manifests};
