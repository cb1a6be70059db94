//! The pure decision: no I/O, table-tested. In layers (each may use those before it):
//!
//! | module | job |
//! |---|---|
//! | [`pass`] | the vocabulary of a pass: phases, [`pass::Blocked`], [`pass::Effects`], [`pass::ReconcileError`] |
//! | [`desired`], [`adoption`], [`plan`], [`business`], [`products`], [`access`], [`retirement`], [`subscription`] | what the spec asks for in DataZone's terms; whether an existing data source may be adopted; the pure next step; what each asset is to carry of the declared business metadata; the DataZone data products and the next step for each; which access rule decides a subscription request; whether subscribers hold a retirement; where a consumer's subscription stands |
//! | [`status`] | effects → status and Events |

pub mod pass;

pub mod access;
pub mod adoption;
pub mod business;
pub mod desired;
pub mod environment_room;
pub mod plan;
pub mod products;
pub mod retirement;
pub mod subscription;

pub mod status;
