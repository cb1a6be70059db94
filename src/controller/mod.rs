//! The controllers: wiring, the reconcile of a RedshiftDataProduct, and the pure decision.

pub mod act;
pub mod cache;
pub mod cleanup;
pub mod connection;
pub mod connection_status;
pub mod context;
pub mod desired;
pub mod observe;
pub mod plan;
pub mod reconcile;
pub mod runs;
pub mod snapshot;
pub mod target;
pub mod throttle;
