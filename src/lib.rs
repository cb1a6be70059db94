//! datazone-operator: publishes Amazon Redshift tables and views into an Amazon DataZone
//! catalog from `RedshiftDataProduct` resources.

pub mod cli;
pub mod controller;
pub mod crd;
pub mod crdgen;
pub mod datazone;
pub mod events;
pub mod http;
pub mod kubectl;
pub mod lease;
pub mod metrics;
pub mod naming;
pub mod payload;
pub mod plan;
pub mod run;
pub mod telemetry;
