//! Connections: what a data product or glossary needs of one, and the connection resources'
//! own controller. In layers (each may use those before it):
//!
//! | module | job |
//! |---|---|
//! | [`resolve`] | a connection resolved for a pass: admitted, role assumed, domain found |
//! | [`guardrails`] | whether a connection's tenancy rules allow what a data product or glossary names |
//! | [`reconcile`] | the orchestrator of a `DataZoneConnection` / `ClusterDataZoneConnection`: its status |

pub mod resolve;

pub mod guardrails;

pub mod reconcile;
