//! A `RedshiftDataProduct`'s pass. In layers (each may use those before it):
//!
//! | module | job |
//! |---|---|
//! | [`target`] | what a pass works towards: project, account, desired configuration |
//! | [`redshift_connection`] | V2: the shared Redshift connection in DataZone — looked up, made, brought to what its data products agree on |
//! | [`observe`], [`runs`], [`act`], [`describe`], [`products`], [`access`], [`removal`], [`retirement`], [`cleanup`] | the phases: read, follow runs, mutate once, write business metadata, keep the DataZone data products, answer subscription requests by the access policy, delete (what goes, retiring respecting subscribers, the policy's order) |
//! | [`reconcile`], [`preview`] | the orchestrators: status, Events, backoff; `plan`'s read-only pass |

pub mod target;

pub mod redshift_connection;

pub mod access;
pub mod act;
pub mod cleanup;
pub mod describe;
pub mod observe;
pub mod products;
pub mod removal;
pub mod retirement;
pub mod runs;

pub mod preview;
pub mod reconcile;
