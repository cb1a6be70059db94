//! What both the data product's spec and its business metadata say of one asset.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Whether an asset came from a table or a view.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema)]
pub enum AssetKind {
    #[serde(rename = "TABLE")]
    Table,
    #[serde(rename = "VIEW")]
    View,
}
