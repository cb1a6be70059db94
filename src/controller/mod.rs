//! The controllers: wiring, the reconcile of a RedshiftDataProduct, and the pure decision.
//!
//! Each module may use only those listed before it:
//!
//! | module | job |
//! |---|---|
//! | [`keys`] | what shared caches, locks and listings are keyed by |
//! | [`cache`], [`throttle`], [`snapshot`], [`tenancy`], [`watched`], [`claims`] | shared lookups, the throttling brake, a project's shared listing, who uses which session, the watch caches of connections and namespaces, what each data product asks of a shared V2 connection |
//! | [`wakeups`] | drift seen in a shared listing wakes the data product it belongs to |
//! | [`pass`] | the vocabulary of a pass: phases, [`pass::Blocked`], [`pass::Effects`] |
//! | [`desired`], [`adoption`], [`plan`], [`business`] | what the spec asks for in DataZone's terms; whether an existing data source may be adopted; the pure next step; what each asset is to carry of the declared business metadata |
//! | [`status`] | effects → status and Events (pure) |
//! | [`context`] | what every reconcile shares, with the AWS [`crate::datazone::Backend`] |
//! | [`connection`] | a data product's connection: admitted, role assumed, domain found |
//! | [`guardrails`] | whether a connection's tenancy rules allow what a data product or glossary names |
//! | [`target`] | what a pass works towards: project, account, desired configuration |
//! | [`redshift_connection`] | V2: the shared Redshift connection in DataZone — looked up, made, brought to what its data products agree on |
//! | [`observe`], [`runs`], [`act`], [`describe`], [`cleanup`] | the phases: read, follow runs, mutate once, write business metadata, delete |
//! | [`reconcile`], [`connection_status`], [`glossary`], [`preview`] | the orchestrators: status, Events, backoff; a glossary and its terms; `plan`'s read-only pass |

pub mod keys;

pub mod cache;
pub mod claims;
pub mod snapshot;
pub mod tenancy;
pub mod throttle;
pub mod wakeups;
pub mod watched;

pub mod pass;

pub mod adoption;
pub mod business;
pub mod desired;
pub mod plan;

pub mod status;

pub mod context;

pub mod connection;
pub mod guardrails;
pub mod target;

pub mod redshift_connection;

pub mod act;
pub mod cleanup;
pub mod describe;
pub mod observe;
pub mod runs;

pub mod connection_status;
pub mod glossary;
pub mod preview;
pub mod reconcile;

#[cfg(test)]
mod tests;
