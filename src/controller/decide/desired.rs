//! What a RedshiftDataProduct asks for, in DataZone's terms: names derived deterministically
//! from the resource, and the data source configuration its schemas map to.

use std::collections::{BTreeMap, BTreeSet};

use crate::crd::{MetadataForm, RedshiftDataProductSpec, SchemaSelection};
use crate::datazone::catalog::forms_agree;
use crate::datazone::{
    Binding, DataSourceInfo, Form, Generation, Lineage, ObjectKind, SchemaFilter, SourceConfig, Storage,
};
use crate::naming::{short_hash, stable_hash};

/// Marks data sources this operator created; it changes and deletes no other.
pub const OWNER_MARKER: &str = "managed-by=datazone-operator";

/// The lineage the spec asks for (`None`: no opinion).
pub fn lineage(spec: &RedshiftDataProductSpec) -> Option<Lineage> {
    spec.lineage.as_ref().map(|l| Lineage { enabled: l.enabled, schedule: l.schedule.clone() })
}

pub fn storage(spec: &RedshiftDataProductSpec) -> Storage {
    match (&spec.redshift.cluster_name, &spec.redshift.workgroup_name) {
        (_, Some(w)) => Storage::Workgroup(w.clone()),
        (Some(c), None) => Storage::Cluster(c.clone()),
        // Admission guarantees exactly one; an empty name fails visibly at DataZone.
        (None, None) => Storage::Cluster(String::new()),
    }
}

/// `<cluster>-<namespace>-<name>`: unique per producer cluster and resource, so two clusters
/// publishing into one project never collide (DataZone allows 256 characters).
pub fn data_source_name(cluster: &str, namespace: &str, name: &str) -> String {
    let full = format!("{cluster}-{namespace}-{name}");
    if full.len() <= 256 { full } else { format!("{}-{}", &full[..247], short_hash(&full)) }
}

/// The description that marks the data source as ours, with the resource it belongs to.
pub fn description(cluster: &str, namespace: &str, name: &str, uid: &str) -> String {
    format!(
        "Published by datazone-operator from RedshiftDataProduct {namespace}/{name} (cluster {cluster}, {}; {OWNER_MARKER}",
        uid_mark(uid)
    )
}

/// How the description names the data product it belongs to: which one of ours it is.
pub fn uid_mark(uid: &str) -> String {
    format!("uid {uid})")
}

pub fn is_ours(description: Option<&str>) -> bool {
    description.is_some_and(|d| d.contains(OWNER_MARKER))
}

/// A DataZone name (`[\w -]{1,64}`) from parts, shortened with a hash when too long.
fn dz_name(parts: &[&str]) -> String {
    let raw = parts.join("-");
    let clean: String =
        raw.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect();
    if clean.len() <= 64 { clean } else { format!("{}-{}", &clean[..55], short_hash(&raw)) }
}

/// The shared environment profile: one per (project, producer account, region, cluster or
/// workgroup).
pub fn profile_name(account: &str, region: &str, storage: &Storage) -> String {
    dz_name(&["dwh", account, region, storage.name()])
}

/// The shared environment: one per profile and database.
pub fn environment_name(account: &str, region: &str, storage: &Storage, database: &str) -> String {
    dz_name(&["dwh", account, region, storage.name(), database])
}

/// The shared V2 Redshift connection: one per (project, producer account, region, cluster or
/// workgroup, database), as the V1 environment.
pub fn connection_name(account: &str, region: &str, storage: &Storage, database: &str) -> String {
    dz_name(&["redshift", account, region, storage.name(), database])
}

/// A shared connection's description (CreateConnection allows 128 characters): who made it.
pub fn connection_description() -> String {
    format!("Redshift connection shared by datazone-operator data products; {OWNER_MARKER}")
}

/// Whether a connection's `lineageSync` is what `wanted` asks for: on or off as asked, and on the
/// schedule asked when it is on (no schedule asked: any; off has none that matters).
pub fn lineage_matches(actual: Option<&Lineage>, wanted: &Lineage) -> bool {
    let enabled = actual.is_some_and(|a| a.enabled) == wanted.enabled;
    let schedule = !wanted.enabled
        || wanted.schedule.is_none()
        || actual.and_then(|a| a.schedule.as_ref()) == wanted.schedule.as_ref();
    enabled && schedule
}

/// Whether a schema mixes "all of one kind" with a subset of the other, so its objects must be
/// listed to say it with name filters (DataZone filters cannot tell tables from views).
pub fn needs_listing(s: &SchemaSelection) -> bool {
    s.add_all_tables != s.add_all_views
}

/// The INCLUDE expressions of one schema; `objects` are the schema's tables and views, needed
/// only when [`needs_listing`].
pub fn includes(s: &SchemaSelection, objects: &[(String, ObjectKind)]) -> BTreeSet<String> {
    if s.add_all_tables && s.add_all_views {
        return BTreeSet::from(["*".to_string()]);
    }
    let mut out: BTreeSet<String> = s.listed_tables().chain(s.listed_views()).cloned().collect();
    let kind = if s.add_all_tables {
        Some(ObjectKind::Table)
    } else if s.add_all_views {
        Some(ObjectKind::View)
    } else {
        None
    };
    if let Some(kind) = kind {
        out.extend(objects.iter().filter(|(_, t)| *t == kind).map(|(n, _)| n.clone()));
    }
    out
}

/// The data source configuration for `spec`, with each mixed schema's listed objects.
pub fn source_config(
    spec: &RedshiftDataProductSpec,
    listed: &dyn Fn(&str) -> Vec<(String, ObjectKind)>,
) -> SourceConfig {
    let publishing = spec.publishing.clone().unwrap_or_default();
    SourceConfig {
        storage: storage(spec),
        database: spec.redshift.database.clone(),
        secret_arn: spec.redshift.credentials_secret_arn.clone(),
        filters: spec
            .schemas
            .iter()
            .map(|s| SchemaFilter {
                schema: s.name.clone(),
                includes: includes(s, &if needs_listing(s) { listed(&s.name) } else { Vec::new() }),
            })
            .collect(),
        publish_on_import: publishing.publish_on_import,
        business_name_generation: publishing.business_name_generation,
        schedule: spec.schedule.as_ref().map(|s| (s.cron.clone(), s.timezone.clone())),
        asset_forms: spec.metadata_forms.iter().map(form).collect(),
    }
}

/// A form of the spec in DataZone's terms.
pub fn form(f: &MetadataForm) -> Form {
    Form {
        name: f.form_name.clone(),
        type_identifier: f.type_identifier().to_string(),
        type_revision: f.type_revision.clone(),
        content: f.content_json(),
    }
}

/// Whether DataZone's configuration says what `desired` says (filter order does not matter).
pub fn config_matches(actual: &SourceConfig, desired: &SourceConfig) -> bool {
    let sorted = |c: &SourceConfig| {
        let mut f = c.filters.clone();
        f.sort();
        f
    };
    actual.storage == desired.storage
        && actual.database == desired.database
        && actual.secret_arn == desired.secret_arn
        && sorted(actual) == sorted(desired)
        && actual.publish_on_import == desired.publish_on_import
        && actual.business_name_generation == desired.business_name_generation
        && actual.schedule == desired.schedule
        && forms_agree(&actual.asset_forms, &desired.asset_forms)
}

/// One field a data source would change on its way to the spec, as `plan` shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FieldChange {
    pub field: String,
    pub from: String,
    pub to: String,
}

/// The fields of `actual` that differ from `desired`, filters per schema (what `UpdateDataSource`
/// would change; the cluster, workgroup and database are immutable and never differ on an
/// update).
pub fn config_diff(actual: &SourceConfig, desired: &SourceConfig) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    let mut change = |field: String, from: String, to: String| {
        if from != to {
            changes.push(FieldChange { field, from, to });
        }
    };
    let by_schema = |c: &SourceConfig| -> BTreeMap<String, String> {
        c.filters
            .iter()
            .map(|f| (f.schema.clone(), f.includes.iter().cloned().collect::<Vec<_>>().join(", ")))
            .collect()
    };
    let (from, to) = (by_schema(actual), by_schema(desired));
    for schema in from.keys().chain(to.keys()).collect::<BTreeSet<_>>() {
        let side = |m: &BTreeMap<String, String>| m.get(schema).cloned().unwrap_or_else(|| "-".into());
        change(format!("filters[{schema}]"), side(&from), side(&to));
    }
    change("secret".into(), actual.secret_arn.clone(), desired.secret_arn.clone());
    change("publishOnImport".into(), actual.publish_on_import.to_string(), desired.publish_on_import.to_string());
    change(
        "businessNameGeneration".into(),
        actual.business_name_generation.to_string(),
        desired.business_name_generation.to_string(),
    );
    let schedule = |c: &SourceConfig| match &c.schedule {
        Some((cron, Some(tz))) => format!("{cron} ({tz})"),
        Some((cron, None)) => cron.clone(),
        None => "-".into(),
    };
    change("schedule".into(), schedule(actual), schedule(desired));
    if !forms_agree(&actual.asset_forms, &desired.asset_forms) {
        let names = |c: &SourceConfig| {
            let names: Vec<&str> = c.asset_forms.iter().map(|f| f.name.as_str()).collect();
            if names.is_empty() { "-".to_string() } else { names.join(", ") }
        };
        let (from, to) = (names(actual), names(desired));
        // The same names with other content still show as a change.
        let to = if from == to { format!("{to} (content)") } else { to };
        change("assetForms".into(), from, to);
    }
    changes
}

/// A short fingerprint of a configuration: a run is due when the configuration it ran with
/// differs from the one wanted now.
pub fn config_hash(c: &SourceConfig) -> String {
    let mut filters = c.filters.clone();
    filters.sort();
    let mut text = format!(
        "{:?}|{}|{}|{:?}|{}|{}|{:?}",
        c.storage, c.database, c.secret_arn, filters, c.publish_on_import, c.business_name_generation, c.schedule
    );
    // Without forms, the fingerprint is what it was before forms existed: no run is started
    // for an operator upgrade.
    if !c.asset_forms.is_empty() {
        let mut forms = c.asset_forms.clone();
        forms.sort();
        text.push_str(&format!("|{forms:?}"));
    }
    format!("{:016x}", stable_hash(&text))
}

/// What a data source is bound to in a domain of `generation`, as DataZone says: its
/// environment (V1) or its connection (V2).
pub fn bound_in(ds: &DataSourceInfo, generation: Generation) -> Option<Binding> {
    match generation {
        Generation::V1 => ds.environment_id.clone().map(Binding::Environment),
        Generation::V2 => ds.connection_id.clone().map(Binding::Connection),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(all_tables: bool, all_views: bool, tables: &[&str], views: &[&str]) -> SchemaSelection {
        SchemaSelection {
            name: "s".into(),
            add_all_tables: all_tables,
            add_all_views: all_views,
            tables: tables.iter().map(|t| t.to_string()).collect(),
            views: views.iter().map(|t| t.to_string()).collect(),
            assets: Vec::new(),
        }
    }

    fn objects() -> Vec<(String, ObjectKind)> {
        use ObjectKind::{Table, View};
        [("orders", Table), ("customers", Table), ("v_orders", View), ("v_ltv", View)]
            .map(|(n, t)| (n.to_string(), t))
            .to_vec()
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn schema_to_includes_table() {
        let cases = [
            (schema(true, true, &[], &[]), set(&["*"]), false),
            (schema(false, false, &["orders"], &["v_orders"]), set(&["orders", "v_orders"]), false),
            (schema(true, false, &[], &["v_ltv"]), set(&["orders", "customers", "v_ltv"]), true),
            (schema(false, true, &["orders"], &[]), set(&["orders", "v_orders", "v_ltv"]), true),
            (schema(true, false, &[], &[]), set(&["orders", "customers"]), true),
        ];
        for (s, want, listing) in cases {
            assert_eq!(needs_listing(&s), listing, "{s:?}");
            assert_eq!(includes(&s, &objects()), want, "{s:?}");
        }
    }

    #[test]
    fn names_are_deterministic_and_bounded() {
        assert_eq!(data_source_name("prod-eks", "team-sales", "sales-orders"), "prod-eks-team-sales-sales-orders");
        let long = data_source_name("c", "n", &"x".repeat(300));
        assert_eq!(long.len(), 256);
        assert_ne!(long, data_source_name("c", "n", &format!("{}y", "x".repeat(299))));
        let storage = Storage::Cluster("prod-dwh".into());
        assert_eq!(profile_name("222222222222", "eu-central-1", &storage), "dwh-222222222222-eu-central-1-prod-dwh");
        assert_eq!(
            environment_name("222222222222", "eu-central-1", &storage, "sales"),
            "dwh-222222222222-eu-central-1-prod-dwh-sales"
        );
        let odd = environment_name("222222222222", "eu-central-1", &storage, &format!("db.{}", "w".repeat(80)));
        assert!(odd.len() <= 64 && odd.chars().all(|c| c.is_ascii_alphanumeric() || "_- ".contains(c)), "{odd}");
    }

    #[test]
    fn a_diff_names_each_field_that_would_change() {
        let filter = |schema: &str, names: &[&str]| SchemaFilter {
            schema: schema.into(),
            includes: names.iter().map(|n| n.to_string()).collect(),
        };
        let actual = SourceConfig {
            storage: Storage::Cluster("prod-dwh".into()),
            database: "sales".into(),
            secret_arn: "arn:secret".into(),
            filters: vec![filter("public", &["orders"]), filter("old", &["*"])],
            publish_on_import: false,
            business_name_generation: false,
            schedule: None,
            asset_forms: Vec::new(),
        };
        assert!(config_diff(&actual, &actual).is_empty(), "the same configuration: no change");
        let desired = SourceConfig {
            filters: vec![filter("public", &["customers", "orders"])],
            publish_on_import: true,
            schedule: Some(("cron(0 2 * * ? *)".into(), Some("UTC".into()))),
            ..actual.clone()
        };
        let change =
            |field: &str, from: &str, to: &str| FieldChange { field: field.into(), from: from.into(), to: to.into() };
        assert_eq!(
            config_diff(&actual, &desired),
            [
                change("filters[old]", "*", "-"),
                change("filters[public]", "orders", "customers, orders"),
                change("publishOnImport", "false", "true"),
                change("schedule", "-", "cron(0 2 * * ? *) (UTC)"),
            ]
        );
    }

    #[test]
    fn ownership_marker() {
        let d = description("prod-eks", "team-sales", "x", "uid-1");
        assert!(is_ours(Some(&d)));
        assert!(!is_ours(Some("made by hand")));
        assert!(!is_ours(None));
    }

    #[test]
    fn filter_order_does_not_matter_but_content_does() {
        let a = SourceConfig {
            storage: Storage::Cluster("c".into()),
            database: "d".into(),
            secret_arn: "s".into(),
            filters: vec![
                SchemaFilter { schema: "a".into(), includes: set(&["x"]) },
                SchemaFilter { schema: "b".into(), includes: set(&["y"]) },
            ],
            publish_on_import: true,
            business_name_generation: false,
            schedule: None,
            asset_forms: Vec::new(),
        };
        let mut b = a.clone();
        b.filters.reverse();
        assert!(config_matches(&a, &b));
        assert_eq!(config_hash(&a), config_hash(&b));
        b.filters[0].includes.insert("z".into());
        assert!(!config_matches(&a, &b));
        assert_ne!(config_hash(&a), config_hash(&b));
    }
}
