//! The operator's reading of DataZone answers, on answers a newer DataZone may give: the
//! emulator's answers varied within botocore's model (optional members left out, enum values the
//! model does not know yet), seeded (`PROPERTY_SEED` replays a run), until at least 10,000
//! answers were varied. Every call of the operator's AWS layer (`DataZone`, `Producer` over the
//! SDK), V1 and V2, either returns what it read or a classified error — never a panic, never a
//! hang.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::rng::Rng;
use common::shapes::Model;
use datazone_emulator::{Emulator, EmulatorConfig, Fixture, Lifecycle};
use datazone_operator::datazone::{
    AssetRevision, Backend, Binding, BlueprintEnablement, Catalog, ConnectionPatch, ConnectionSpec, DataZone, DzError,
    Form, Lineage, Producer, ProfileSpec, SchemaFilter, SourceConfig, Storage, TermSpec,
};

const VARIED: usize = 10_000;
const SECRET: &str = "arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-redshift-AbCdEf";

/// Calls read / refused, per operation.
static TALLY: Mutex<std::collections::BTreeMap<&'static str, (usize, usize)>> =
    Mutex::new(std::collections::BTreeMap::new());

/// A call's outcome: what it read (ignored) or an error that says what it is.
fn outcome<T>(what: &'static str, result: Result<T, DzError>) -> Option<T> {
    let mut tally = TALLY.lock().unwrap();
    let counts = tally.entry(what).or_default();
    match result {
        Ok(v) => {
            counts.0 += 1;
            Some(v)
        }
        Err(e) => {
            counts.1 += 1;
            assert!(!e.code.is_empty() && !e.to_string().is_empty(), "{what}: an error without a code: {e:?}");
            None
        }
    }
}

#[tokio::test]
async fn varied_answers_are_read_or_refused_with_a_classified_error() {
    let (rng, seed) = Rng::from_env(0x00A2_5EED);
    let fixture =
        Fixture::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/emulator/fixture.yaml"))
            .unwrap();
    let lifecycle = Lifecycle {
        environment_ready_after: Duration::ZERO,
        run_duration: Duration::ZERO,
        runs_per_day: 100_000,
        grant_duration: Duration::ZERO,
        ..Lifecycle::default()
    };
    let emulator =
        Emulator::start("127.0.0.1:0".parse().unwrap(), EmulatorConfig { fixture, lifecycle, rate_limit: None })
            .await
            .unwrap();
    let varied = Arc::new(Mutex::new(0usize));
    {
        let (model, varied, rng) = (Model::load(), varied.clone(), Mutex::new(rng));
        emulator.rewrite_answers(Box::new(move |operation, body| {
            let mut rng = rng.lock().unwrap();
            let n = model.vary(operation, body, &mut |options| rng.below(options));
            *varied.lock().unwrap() += n;
        }));
    }
    let clients = common::aws::clients(&emulator.endpoint(), 1000.0).await;
    let session = common::aws::registration("Test/answers", "test", "optional");
    let (dz, producer) = (clients.project(&session), clients.producer("eu-central-1"));
    let mut scenarios = 0;
    while *varied.lock().unwrap() < VARIED {
        scenarios += 1;
        assert!(scenarios < 5_000, "the answers are hardly ever varied");
        let i = scenarios;
        tokio::time::timeout(Duration::from_secs(30), scenario(&dz, &producer, i))
            .await
            .unwrap_or_else(|_| panic!("scenario {i} (seed {seed}) hung"));
    }
    println!(
        "answer properties: {} answers varied over {scenarios} scenarios of V1 and V2 calls",
        varied.lock().unwrap()
    );
    let tally = TALLY.lock().unwrap().clone();
    println!("answer properties: read / refused per call: {tally:?}");
    assert!(tally.values().all(|(read, _)| *read > 0), "every call was read at least once: {tally:?}");
    emulator.shutdown().await;
}

/// One data product's calls, V1 then V2, each going on with what the previous ones read (or
/// stopping where an answer could not be read).
/// A form of the example fixture's form type.
fn ownership() -> Form {
    Form {
        name: "ownership".into(),
        type_identifier: "OwnershipFormType".into(),
        type_revision: None,
        content: r#"{"owner":"sales"}"#.into(),
    }
}

async fn scenario(dz: &(impl DataZone + Catalog), producer: &impl Producer, i: usize) {
    let storage = Storage::Cluster("prod-dwh".into());
    let config = SourceConfig {
        storage: storage.clone(),
        database: "sales".into(),
        secret_arn: SECRET.into(),
        filters: vec![SchemaFilter { schema: "public".into(), includes: ["orders".to_string()].into() }],
        publish_on_import: true,
        business_name_generation: false,
        schedule: None,
        asset_forms: vec![ownership()],
    };
    let Some(Some((domain, _))) = outcome("find_domain", dz.find_domain("corp-mesh").await) else { return };
    outcome("get_domain", dz.get_domain(&domain).await);
    let Some(Some(project)) = outcome("find_project", dz.find_project(&domain, "sales").await) else { return };
    outcome("account", producer.account().await);
    if let Some(Some(bp)) = outcome("find_blueprint", producer.find_blueprint(&domain, "DefaultDataWarehouse").await) {
        outcome("blueprint_regions", producer.blueprint_regions(&domain, &bp).await);
        let enable = BlueprintEnablement {
            regions: vec!["eu-central-1".into()],
            provisioning_role_arn: "arn:aws:iam::222222222222:role/DataZoneProvisioning-111111111111".into(),
            manage_access_role_arn: "arn:aws:iam::222222222222:role/DzRedshiftAccess".into(),
            regional_parameters: Default::default(),
        };
        outcome("enable_blueprint", producer.enable_blueprint(&domain, &bp, &enable).await);
        let profile = ProfileSpec {
            name: format!("p-{i}"),
            project_id: project.clone(),
            blueprint_id: bp,
            account: "222222222222".into(),
            region: "eu-central-1".into(),
            storage: storage.clone(),
            secret_arn: SECRET.into(),
        };
        outcome("find_profile", dz.find_profile(&domain, &project, &profile.name).await);
        if let Some(profile) = outcome("create_profile", dz.create_profile(&domain, &profile).await)
            && let Some(env) = outcome(
                "create_environment",
                dz.create_environment(&domain, &project, &profile, &format!("e-{i}"), "sales").await,
            )
        {
            outcome("list_environments", dz.list_environments(&domain, &project).await);
            outcome("get_environment", dz.get_environment(&domain, &env.id).await);
            outcome("find_environment", dz.find_environment(&domain, &project, &format!("e-{i}")).await);
            data_source(dz, &domain, &project, &Binding::Environment(env.id), &config, &format!("ds-{i}")).await;
        }
    }
    // V2: the unified-mesh domain's project analytics, through a connection.
    let Some(Some((v2, _))) = outcome("find_domain", dz.find_domain("unified-mesh").await) else { return };
    let Some(Some(analytics)) = outcome("find_project", dz.find_project(&v2, "analytics").await) else { return };
    let Some(Some(tooling)) = outcome("project_environment", dz.project_environment(&v2, &analytics).await) else {
        return;
    };
    let spec = ConnectionSpec {
        name: format!("c-{i}"),
        description: "test".into(),
        environment: tooling,
        account: "222222222222".into(),
        region: "eu-central-1".into(),
        storage,
        database: "sales".into(),
        secret_arn: SECRET.into(),
        lineage: Some(Lineage { enabled: true, schedule: None }),
        client_token: format!("c-{i}"),
    };
    if let Some(c) = outcome("create_connection", dz.create_connection(&v2, &spec).await) {
        outcome("find_connection", dz.find_connection(&v2, &analytics, &spec.name).await);
        let patch = ConnectionPatch { secret_arn: None, lineage: Some(Lineage { enabled: false, schedule: None }) };
        outcome("update_connection", dz.update_connection(&v2, &c.id, &patch).await);
        data_source(dz, &v2, &analytics, &Binding::Connection(c.id), &config, &format!("v2-{i}")).await;
    }
}

async fn data_source(
    dz: &(impl DataZone + Catalog),
    domain: &str,
    project: &str,
    binding: &Binding,
    config: &SourceConfig,
    name: &str,
) {
    let created = dz.create_data_source(domain, project, binding, name, "test", config, name).await;
    let Some(ds) = outcome("create_data_source", created) else { return };
    outcome("find_data_source", dz.find_data_source(domain, project, name).await);
    outcome("list_data_sources", dz.list_data_sources(domain, project).await);
    outcome("get_data_source", dz.get_data_source(domain, &ds.id).await);
    if let Some(run) = outcome("start_run", dz.start_run(domain, &ds.id, name).await) {
        outcome("get_run", dz.get_run(domain, &run.id).await);
        let activities = outcome("list_activities", dz.list_activities(domain, &run.id).await).unwrap_or_default();
        if let Some(asset) = activities.iter().find_map(|a| a.asset_id.clone()) {
            catalog(dz, domain, project, &asset, name).await;
        }
    }
    outcome("update_data_source", dz.update_data_source(domain, &ds.id, Some(config), None).await);
    outcome("delete_data_source", dz.delete_data_source(domain, &ds.id).await);
}

/// The business metadata calls on one asset of the run, and a glossary of the scenario's own.
async fn catalog(dz: &impl Catalog, domain: &str, project: &str, asset: &str, name: &str) {
    outcome("glossaries", dz.glossaries(domain, Some(project)).await);
    let mut terms = Vec::new();
    if let Some(g) = outcome("create_glossary", dz.create_glossary(domain, project, name, Some("test"), name).await) {
        outcome("update_glossary", dz.update_glossary(domain, &g.id, "changed").await);
        let term =
            TermSpec { name: format!("t-{name}"), short_description: Some("a term".into()), long_description: None };
        if let Some(t) = outcome("create_glossary_term", dz.create_glossary_term(domain, &g.id, &term, name).await) {
            outcome("update_glossary_term", dz.update_glossary_term(domain, &t.id, &term).await);
            terms.push(t.id);
        }
    }
    outcome("glossary_terms", dz.glossary_terms(domain, None).await);
    let Some(current) = outcome("get_asset", dz.get_asset(domain, asset).await) else { return };
    let revision = AssetRevision {
        asset_id: asset.to_string(),
        name: current.name,
        description: Some(format!("described by {name}")),
        glossary_terms: terms,
        forms: vec![ownership()],
        client_token: format!("rev-{name}"),
    };
    if let Some(r) = outcome("create_asset_revision", dz.create_asset_revision(domain, &revision).await) {
        outcome("publish_asset", dz.publish_asset(domain, asset, &r, &format!("pub-{name}")).await);
    }
    let types = ["BUSINESS_DESCRIPTIONS"];
    outcome("start_metadata_generation", dz.start_metadata_generation(domain, project, asset, &types, name).await);
}
