//! datazone-emulator: Amazon DataZone, STS and Redshift Data API over their real wire protocols,
//! so unmodified AWS SDKs run against it. Built out in its own issue; this crate reserves the
//! workspace member and binary name.
