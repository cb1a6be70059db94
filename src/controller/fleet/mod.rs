//! What the whole fleet of data products shares, below any one pass. In layers (each may use
//! those before it):
//!
//! | module | job |
//! |---|---|
//! | [`keys`] | what shared caches, locks and listings are keyed by |
//! | [`cache`], [`recovery`], [`tenancy`], [`watched`], [`claims`], [`full_reads`], [`held_resyncs`], [`run_starts`] | shared lookups, the wake of those backing off when DataZone is back, who uses which session, the watch caches of connections and namespaces, what each data product asks of a shared V2 connection, when each settled data product reads its data source in full, whose resyncs wait while the pace is saturated, each data source's runs of the last day |
//! | [`snapshot`], [`access_views`] | a project's shared listing of data sources; its shared view of subscription requests and subscriptions, and the pace of accepting |
//! | [`wakeups`] | drift seen in a shared listing wakes the data product it belongs to |

pub mod keys;

pub mod access_views;
pub mod cache;
pub mod claims;
pub mod full_reads;
pub mod gate;
pub mod held_resyncs;
pub mod recovery;
pub mod run_starts;
pub mod snapshot;
pub mod tenancy;
pub mod wakeups;
pub mod watched;
