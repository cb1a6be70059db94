//! The vocabulary of one reconcile pass, shared by its phases and the orchestrator
//! ([`crate::controller::data_product::reconcile`]): the phases, why a pass stopped short ([`Blocked`], the one error
//! type), and what a phase saw and did ([`Effects`]: status records, conditions, Events). The
//! phases return these; only the orchestrator turns them into status and Events, and only it
//! decides backoff.

use std::fmt;
use std::time::Duration;

use kube::ResourceExt;
use kube::runtime::events::EventType;

use crate::crd::conditions::{
    ACCESS_APPLIED, BLUEPRINT_ENABLED, CONNECTION_READY, CONNECTION_RESOLVED, DATA_SOURCE_READY, ENVIRONMENT_READY,
    METADATA_APPLIED, PRODUCT_LISTED, PUBLISHED,
};
use crate::crd::{AssetStatus, RedshiftDataProduct, RunSummary};
use crate::datazone::{Binding, DzError, ErrorClass, Generation};

pub const FINALIZER: &str = "dataproducts.dev/cleanup";
pub const MANAGER: &str = "datazone-operator";
/// A terminal problem is looked at again this often (or at once on a spec change).
pub const TERMINAL_RETRY: Duration = Duration::from_secs(600);
/// When the run quota is used up, try again in an hour.
pub const QUOTA_RETRY: Duration = Duration::from_secs(3600);

/// Why a reconcile of any resource returned an error to its controller (which then asks its
/// error policy for the backoff).
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("cleanup did not finish: {0}")]
    Cleanup(#[source] Blocked),
    #[error("finalizer: {0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<ReconcileError>>),
}

/// The phases of a data product, in order; each is a condition of its own. A V1 domain goes
/// through the blueprint and an environment, a V2 domain through a connection
/// ([`Phase::of`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    ConnectionResolved,
    BlueprintEnabled,
    EnvironmentReady,
    ConnectionReady,
    DataSourceReady,
    Published,
    MetadataApplied,
    ProductListed,
    AccessApplied,
}

impl Phase {
    pub const ALL: [Phase; 9] = [
        Phase::ConnectionResolved,
        Phase::BlueprintEnabled,
        Phase::EnvironmentReady,
        Phase::ConnectionReady,
        Phase::DataSourceReady,
        Phase::Published,
        Phase::MetadataApplied,
        Phase::ProductListed,
        Phase::AccessApplied,
    ];

    /// The phases a data product in a domain of this generation shows as conditions.
    pub fn of(generation: Generation) -> &'static [Phase] {
        const V1: [Phase; 8] = [
            Phase::ConnectionResolved,
            Phase::BlueprintEnabled,
            Phase::EnvironmentReady,
            Phase::DataSourceReady,
            Phase::Published,
            Phase::MetadataApplied,
            Phase::ProductListed,
            Phase::AccessApplied,
        ];
        const V2: [Phase; 7] = [
            Phase::ConnectionResolved,
            Phase::ConnectionReady,
            Phase::DataSourceReady,
            Phase::Published,
            Phase::MetadataApplied,
            Phase::ProductListed,
            Phase::AccessApplied,
        ];
        match generation {
            Generation::V1 => &V1,
            Generation::V2 => &V2,
        }
    }

    /// The condition type that reports this phase.
    pub fn condition(self) -> &'static str {
        match self {
            Phase::ConnectionResolved => CONNECTION_RESOLVED,
            Phase::BlueprintEnabled => BLUEPRINT_ENABLED,
            Phase::EnvironmentReady => ENVIRONMENT_READY,
            Phase::ConnectionReady => CONNECTION_READY,
            Phase::DataSourceReady => DATA_SOURCE_READY,
            Phase::Published => PUBLISHED,
            Phase::MetadataApplied => METADATA_APPLIED,
            Phase::ProductListed => PRODUCT_LISTED,
            Phase::AccessApplied => ACCESS_APPLIED,
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.condition())
    }
}

/// What a [`Blocked`] came from.
#[derive(Debug, thiserror::Error)]
pub enum Cause {
    #[error(transparent)]
    DataZone(#[from] DzError),
    #[error(transparent)]
    Kube(#[from] kube::Error),
}

/// Why a pass stopped short: the phase whose condition turns False, a CamelCase reason, and
/// how the error is retried (a person must act, retry with backoff, or slow every caller).
#[derive(Debug, thiserror::Error)]
#[error("{phase}: {reason}: {message}")]
pub struct Blocked {
    pub phase: Phase,
    pub reason: String,
    pub message: String,
    pub class: ErrorClass,
    #[source]
    pub cause: Option<Box<Cause>>,
}

impl Blocked {
    /// A person must act: looked at again every 10 minutes, or at once on a spec change.
    pub fn terminal(phase: Phase, reason: &str, message: impl Into<String>) -> Self {
        Self { phase, reason: reason.into(), message: message.into(), class: ErrorClass::Terminal, cause: None }
    }

    /// Retried with the object's backoff.
    pub fn retryable(phase: Phase, reason: &str, message: impl Into<String>) -> Self {
        Self { phase, reason: reason.into(), message: message.into(), class: ErrorClass::Retryable, cause: None }
    }

    /// A DataZone (or STS, Redshift Data) error, classified where it was answered.
    pub fn dz(phase: Phase, e: DzError) -> Self {
        let (reason, message, class) = (e.reason(), e.to_string(), e.class);
        Self { phase, reason, message, class, cause: Some(Box::new(Cause::DataZone(e))) }
    }

    /// A Kubernetes API error while reading what the pass needs: retried.
    pub fn kube(phase: Phase, e: kube::Error) -> Self {
        let message = e.to_string();
        Self {
            phase,
            reason: "KubernetesApiError".into(),
            message,
            class: ErrorClass::Retryable,
            cause: Some(Box::new(Cause::Kube(e))),
        }
    }

    /// The same error under a reason that says what was being done.
    pub fn because(mut self, reason: &str) -> Self {
        self.reason = reason.into();
        self
    }

    pub fn is_terminal(&self) -> bool {
        self.class == ErrorClass::Terminal
    }
}

/// One change to status a phase asks for; [`super::status`] applies them.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    Resolved {
        domain: String,
        project: String,
        generation: Generation,
    },
    Blueprint(String),
    /// The V2 Redshift connection the data source is made through.
    Connection(String),
    Profile(String),
    Environment(String),
    DataSource {
        id: String,
        name: String,
    },
    /// The data source in status is gone from DataZone.
    DataSourceGone,
    /// The data source's `updatedAt` when it was last read in full.
    DataSourceSeen(Option<String>),
    /// A new data source has no runs yet.
    RunsCleared,
    /// The run, as far as it has got.
    Run(RunSummary),
    /// The reconcile-request annotation value just acted on.
    RequestHandled(Option<String>),
    /// A finished run's per-asset outcome.
    Assets {
        assets: Vec<AssetStatus>,
        published: i64,
    },
    /// Failed runs in a row (`None`: the last one succeeded).
    RunFailures(Option<i64>),
    /// The data source was adopted; its description before (empty when unknown or none).
    Adopted(String),
    /// What each table or view with metadata of its own carries.
    AssetMetadata(Vec<crate::crd::AssetMetadataStatus>),
    /// The data product's forms on every other asset.
    AssetForms(Option<crate::crd::AssetFormsStatus>),
    /// The metadata generation runs asked for.
    MetadataGeneration(Option<crate::crd::MetadataGenerationStatus>),
    /// The DataZone data products made of the assets, as last written.
    DataProducts(Vec<crate::crd::CatalogProductStatus>),
    /// Subscribers and the access policy's decisions.
    Access(Option<crate::crd::AccessStatus>),
    /// The run and spec generation the business metadata was brought up to date with.
    MetadataRun {
        run: String,
        generation: Option<i64>,
    },
}

/// A Kubernetes Event to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub warning: bool,
    pub reason: String,
    pub message: String,
}

/// A phase condition to set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhaseCondition {
    pub phase: Phase,
    pub ok: bool,
    pub reason: String,
    pub message: String,
}

/// What a phase saw and did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Effects {
    pub records: Vec<Record>,
    pub conditions: Vec<PhaseCondition>,
    pub events: Vec<Note>,
    /// Ready cannot be reached without a person: shown as `Stalled`, not `Reconciling`.
    pub stalled: bool,
}

impl Effects {
    pub fn record(&mut self, r: Record) -> &mut Self {
        self.records.push(r);
        self
    }

    pub fn ok(&mut self, phase: Phase, reason: &str, message: impl Into<String>) -> &mut Self {
        self.conditions.push(PhaseCondition { phase, ok: true, reason: reason.into(), message: message.into() });
        self
    }

    pub fn not_yet(&mut self, phase: Phase, reason: &str, message: impl Into<String>) -> &mut Self {
        self.conditions.push(PhaseCondition { phase, ok: false, reason: reason.into(), message: message.into() });
        self
    }

    pub fn event(&mut self, type_: EventType, reason: &str, message: impl Into<String>) -> &mut Self {
        let warning = type_ == EventType::Warning;
        self.events.push(Note { warning, reason: reason.into(), message: message.into() });
        self
    }

    /// The phase this pass left waiting (the last one it found not yet reached).
    pub fn awaited(&self) -> Option<Phase> {
        self.conditions.iter().rev().find(|c| !c.ok).map(|c| c.phase)
    }

    pub fn stall(&mut self) -> &mut Self {
        self.stalled = true;
        self
    }

    /// Adds what a later phase did.
    pub fn extend(&mut self, other: Effects) {
        self.records.extend(other.records);
        self.conditions.extend(other.conditions);
        self.events.extend(other.events);
        self.stalled |= other.stalled;
    }
}

/// What a step did, and when to look again.
#[derive(Debug, PartialEq)]
pub struct Done {
    pub effects: Effects,
    pub requeue: Duration,
}

impl Done {
    pub fn new(effects: Effects, requeue: Duration) -> Self {
        Self { effects, requeue }
    }
}

/// The object's identity for in-memory state (backoff, flights): its UID, or namespace/name
/// for an object not yet stored.
pub fn uid(p: &RedshiftDataProduct) -> String {
    p.metadata.uid.clone().unwrap_or_else(|| format!("{}/{}", p.namespace().unwrap_or_default(), p.name_any()))
}

/// The status record of a binding.
pub fn binding_record(binding: &Binding) -> Record {
    match binding {
        Binding::Environment(id) => Record::Environment(id.clone()),
        Binding::Connection(id) => Record::Connection(id.clone()),
    }
}
