//! Adoption: whether a data product may take over an existing data source (`spec.adopt`), decided
//! from what `GetDataSource` answered. Pure, so each refusal is a table row below. A data source
//! is adopted only when it is in the data product's project, of type REDSHIFT, and reads the
//! same cluster or workgroup and database, and no other data product has adopted (marked) it;
//! anything else is refused with the check that failed, and nothing is changed.

use super::desired;
use crate::datazone::{DataSourceInfo, Storage};

/// What the data product is and must match.
pub struct Wanted<'a> {
    /// The resolved project ID.
    pub project: &'a str,
    pub storage: &'a Storage,
    pub database: &'a str,
    /// The data product's UID, as its ownership description names it.
    pub uid: &'a str,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Nobody's yet: mark it and bring it to the spec.
    Adopt,
    /// Already marked as this data product's: an adoption whose status write was lost.
    AlreadyOurs,
}

/// Why a data source cannot be adopted: a condition reason and a message naming the check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub reason: &'static str,
    pub message: String,
}

fn refuse(reason: &'static str, message: String) -> Refusal {
    Refusal { reason, message }
}

fn storage_text(s: &Storage) -> String {
    match s {
        Storage::Cluster(c) => format!("cluster {c}"),
        Storage::Workgroup(w) => format!("workgroup {w}"),
    }
}

/// The data source named by `spec.adopt` was not found (by ID, or by name in the project).
pub fn not_found(what: &str) -> Refusal {
    refuse("AdoptionNotFound", format!("no data source {what} to adopt"))
}

pub fn check(want: &Wanted, ds: &DataSourceInfo) -> Result<Verdict, Refusal> {
    let id = &ds.id;
    if let Some(project) = ds.project_id.as_deref().filter(|p| *p != want.project) {
        let message =
            format!("data source {id} is in project {project}, not in this data product's project {}", want.project);
        return Err(refuse("AdoptionOtherProject", message));
    }
    let kind = ds.kind.as_deref().unwrap_or("unknown");
    let Some(config) = ds.config.as_ref().filter(|_| kind == "REDSHIFT") else {
        let message = format!("data source {id} is of type {kind}; only a REDSHIFT data source can be adopted");
        return Err(refuse("AdoptionNotRedshift", message));
    };
    if config.storage != *want.storage {
        let (have, wanted) = (storage_text(&config.storage), storage_text(want.storage));
        return Err(refuse("AdoptionOtherStorage", format!("data source {id} reads {have}, not {wanted}")));
    }
    if config.database != want.database {
        let message = format!("data source {id} reads database {}, not {}", config.database, want.database);
        return Err(refuse("AdoptionOtherDatabase", message));
    }
    let description = ds.description.as_deref();
    if desired::is_ours(description) {
        if description.is_some_and(|d| d.contains(&desired::uid_mark(want.uid))) {
            return Ok(Verdict::AlreadyOurs);
        }
        let message = format!(
            "data source {id} is already managed by the operator for another data product ({})",
            description.unwrap_or_default()
        );
        return Err(refuse("AdoptionTaken", message));
    }
    Ok(Verdict::Adopt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datazone::fake::made_elsewhere;

    fn ds(project: &str, kind: &str, storage: Storage, database: &str, description: Option<&str>) -> DataSourceInfo {
        made_elsewhere("ds-lambda", project, kind, storage, database, description)
    }

    #[test]
    fn adopts_only_a_redshift_data_source_of_the_project_cluster_and_database_nobody_else_has() {
        let cluster = Storage::Cluster("prod-dwh".into());
        let want = Wanted { project: "prj1", storage: &cluster, database: "sales", uid: "uid-1" };
        let ours = desired::description("prod-eks", "team", "orders", "uid-1");
        let theirs = desired::description("prod-eks", "team", "other", "uid-2");
        let c = || Storage::Cluster("prod-dwh".into());
        let cases: Vec<(DataSourceInfo, Result<Verdict, &str>)> = vec![
            (ds("prj1", "REDSHIFT", c(), "sales", Some("made by the Lambda")), Ok(Verdict::Adopt)),
            (ds("prj1", "REDSHIFT", c(), "sales", None), Ok(Verdict::Adopt)),
            (ds("prj1", "REDSHIFT", c(), "sales", Some(&ours)), Ok(Verdict::AlreadyOurs)),
            (ds("prj2", "REDSHIFT", c(), "sales", None), Err("AdoptionOtherProject")),
            (ds("prj1", "GLUE", c(), "sales", None), Err("AdoptionNotRedshift")),
            (ds("prj1", "REDSHIFT", Storage::Cluster("other".into()), "sales", None), Err("AdoptionOtherStorage")),
            (ds("prj1", "REDSHIFT", Storage::Workgroup("prod-dwh".into()), "sales", None), Err("AdoptionOtherStorage")),
            (ds("prj1", "REDSHIFT", c(), "finance", None), Err("AdoptionOtherDatabase")),
            (ds("prj1", "REDSHIFT", c(), "sales", Some(&theirs)), Err("AdoptionTaken")),
        ];
        for (found, expected) in cases {
            let got = check(&want, &found).map_err(|r| r.reason);
            assert_eq!(got, expected, "{:?} {:?} {:?}", found.project_id, found.kind, found.description);
        }
        let refused = check(&want, &ds("prj1", "REDSHIFT", Storage::Cluster("other".into()), "sales", None));
        assert_eq!(
            refused.unwrap_err().message,
            "data source ds-lambda reads cluster other, not cluster prod-dwh",
            "the message names the check"
        );
    }
}
