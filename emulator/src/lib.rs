//! datazone-emulator: Amazon DataZone (restJson1), STS (awsQuery) and the Redshift Data API
//! (awsJson1.1) over their real wire protocols, so the unmodified AWS SDKs run against it by
//! endpoint override; plus the two ways a pod on EKS gets its AWS identity (STS
//! AssumeRoleWithWebIdentity and the EKS Pod Identity credentials endpoint). It is the test
//! double behind the operator's tests and a local stand-in for demos. Behaviour follows
//! botocore's model and `docs/datazone-semantics.md`; where the real service's behaviour is
//! unknown the emulator's choice is marked [inferred].

pub mod catalog_state;
pub mod clock;
pub mod control;
pub mod datazone;
pub mod error;
pub mod faults;
pub mod filters;
pub mod fixture;
pub mod identity;
pub mod patterns;
pub mod pod_identity;
pub mod redshift_data;
pub mod server;
pub mod shared;
pub mod sigv4;
pub mod state;
pub mod sts;
pub mod subscription_state;
pub mod web_identity;

pub use fixture::Fixture;
pub use server::{Emulator, EmulatorConfig};
pub use state::Lifecycle;

/// FNV-1a: a hash that is the same in every process (pagination tokens, role IDs).
pub fn stable_hash(input: &str) -> u64 {
    input.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, b| (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}
