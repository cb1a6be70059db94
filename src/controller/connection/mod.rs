//! Connections: what a data product or glossary needs of one, and the connection resources'
//! own controller. In layers (each may use those before it):
//!
//! | module | job |
//! |---|---|
//! | [`resolve`] | a connection resolved for a pass: admitted, role assumed, domain found |
//! | [`guardrails`], [`approvals`] | whether a connection's tenancy rules allow what a data product or glossary names; whether its `autoApproval` allows a data product's access policy |
//! | [`reconcile`] | the orchestrator of a `DataZoneConnection` / `ClusterDataZoneConnection`: its status |

pub mod resolve;

pub mod approvals;
pub mod guardrails;

pub mod reconcile;
