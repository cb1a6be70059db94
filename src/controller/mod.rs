//! The controllers: what the whole fleet shares, the pure decision, and one folder per resource
//! the operator reconciles.
//!
//! Each folder (and each file in it) may use only what is listed before it; `tests/module_layers.rs`
//! holds the whole crate to that, one way only:
//!
//! | module | job |
//! |---|---|
//! | [`fleet`] | what every data product shares: cache keys, lookups, a project's shared listing, wake-ups, tenancy, claims on a shared V2 connection, the watch caches |
//! | [`decide`] | the pure decision: a pass's vocabulary, desired state, adoption, the next step, business metadata per asset, effects → status |
//! | [`context`] | what every reconcile shares, with the AWS [`crate::datazone::Backend`] |
//! | [`connection`] | a connection resolved (admitted, role assumed, domain found), its tenancy guardrails, and the connection resources' own status |
//! | [`data_product`] | a `RedshiftDataProduct`: what a pass works towards, its phases (read, follow runs, act once, describe, clean up) and the orchestrator |
//! | [`glossary`] | a `DataZoneGlossary` and its terms |
//! | [`subscription`] | a `DataZoneSubscription`: the consumer's request, followed to its grants |
//! | [`census`] | the watched objects counted by state, for the gauges the dashboard and alerts read |

pub mod fleet;

pub mod decide;

pub mod context;

pub mod connection;

pub mod data_product;

pub mod glossary;

pub mod subscription;

pub mod census;

#[cfg(test)]
mod tests;
