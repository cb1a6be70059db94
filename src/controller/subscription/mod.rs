//! A `DataZoneSubscription`: the consumer's side of the mesh. The listing found as the consumer
//! names it, one request filed as the consuming project, followed to its subscription and
//! grants; cancelled (or kept) when the object goes.

pub mod cleanup;
pub mod follow;
pub mod reconcile;
pub mod target;
