//! The controllers: wiring, the reconcile of a RedshiftDataProduct, and the pure decision.

pub mod cache;
pub mod connection;
pub mod connection_status;
pub mod context;
pub mod desired;
pub mod plan;
pub mod reconcile;
pub mod runs;
pub mod snapshot;
pub mod throttle;
