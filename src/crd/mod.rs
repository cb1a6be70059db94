//! The `dataproducts.dev/v1alpha1` API.

mod access;
mod asset;
mod business;
mod catalog_product;
pub mod conditions;
// kube's derive takes one `printcolumn(...)` per column; clippy reads the repeated
// `name = ...`, `type_ = ...` items as duplicated attributes.
#[allow(clippy::duplicated_attributes)]
mod connection;
#[allow(clippy::duplicated_attributes)]
mod data_product;
#[allow(clippy::duplicated_attributes)]
mod glossary;
pub mod patterns;
mod schedule;
#[allow(clippy::duplicated_attributes)]
mod subscription;

pub use access::*;
pub use asset::AssetKind;
pub use business::*;
pub use catalog_product::*;
pub use connection::*;
pub use data_product::*;
pub use glossary::*;
pub use schedule::{Schedule, TIMEZONES};
pub use subscription::*;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

/// The API group of every kind of this operator.
pub const GROUP: &str = "dataproducts.dev";
/// The served and stored version.
pub const VERSION: &str = "v1alpha1";
/// `apiVersion` of every kind of this operator.
pub const API_VERSION: &str = "dataproducts.dev/v1alpha1";
/// Annotation whose change asks for an immediate data source run (echoed to
/// `status.lastHandledReconcileAt`).
pub const RECONCILE_REQUESTED_AT: &str = "dataproducts.dev/reconcile-requested-at";

/// Every CRD of the operator, in a stable order.
pub fn all_crds() -> Vec<CustomResourceDefinition> {
    vec![
        RedshiftDataProduct::crd(),
        DataZoneConnection::crd(),
        ClusterDataZoneConnection::crd(),
        DataZoneGlossary::crd(),
        DataZoneSubscription::crd(),
    ]
}
