//! What the shared caches, locks and listings are keyed by. Each key says what it names; the
//! parts are the ones that make two data products share (or not share) the answer.

use crate::crd::{ConnectionKind, ConnectionRef};
use crate::datazone::{SessionKey, Storage};

/// A connection, as data products refer to it: one role account and one region, known before any
/// call.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConnectionId {
    pub kind: ConnectionKind,
    pub name: String,
}

impl From<&ConnectionRef> for ConnectionId {
    fn from(r: &ConnectionRef) -> Self {
        Self { kind: r.kind, name: r.name.clone() }
    }
}

/// Lookups whose answer is an ID or ARN.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Lookup {
    /// The assumed-role ARN of a session's successful role check.
    Role(SessionKey),
    /// A domain's generation (`V1` / `V2`), which also says it exists.
    DomainVersion {
        region: String,
        id: String,
    },
    DomainByName {
        region: String,
        name: String,
    },
    Project {
        domain: String,
        project: String,
    },
    /// The producer account of the operator's own credentials.
    Account {
        region: String,
    },
    /// The domain's DefaultDataWarehouse blueprint.
    Blueprint {
        domain: String,
    },
    Profile {
        domain: String,
        project: String,
        name: String,
    },
    /// A V2 project's environment connections are made in.
    ProjectEnvironment {
        domain: String,
        project: String,
    },
}

/// One shared V2 Redshift connection in DataZone (its name says account, region, storage and
/// database) — not the operator's `DataZoneConnection` ([`ConnectionId`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RedshiftConnectionKey {
    pub domain: String,
    pub project: String,
    pub name: String,
}

/// The blueprint configuration of one producer account, enabled in one region.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Enabled {
    pub domain: String,
    pub account: String,
    pub region: String,
}

/// One shared environment (its name says account, region, storage and database).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EnvironmentKey {
    pub domain: String,
    pub project: String,
    pub name: String,
}

/// A project of a domain.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProjectKey {
    pub domain: String,
    pub project: String,
}

/// One schema's tables and views, as the data products naming it with the same secret see them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SchemaKey {
    pub storage: Storage,
    pub database: String,
    pub schema: String,
    pub secret: String,
}

/// Creations of shared objects, serialised so two data products never make one twice.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Creation {
    /// The blueprint configuration is per account (all regions in one object).
    Enablement {
        domain: String,
        account: String,
    },
    Profile {
        domain: String,
        project: String,
        name: String,
    },
    Environment(EnvironmentKey),
    RedshiftConnection(RedshiftConnectionKey),
}

/// A project's data source listing, as one connection's role sees it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ListingKey {
    pub connection: ConnectionId,
    pub domain: String,
    pub project: String,
}
