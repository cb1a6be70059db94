//! The reference Lambda's steps, replayed through the AWS SDK against a world's emulator: what a
//! producer migrating to the operator already has in DataZone. Its profile, environment and data
//! source carry names of the Lambda's own and no operator mark.

use std::time::Duration;

use datazone_operator::datazone::{
    Backend, Binding, BlueprintEnablement, DataSourceStatus, DataZone, EnvironmentStatus, Producer, ProfileSpec,
    SchemaFilter, SourceConfig, Storage,
};

use super::world::SECRET;

const REGION: &str = "eu-central-1";

/// The reference Lambda, publishing into `project` through the emulator at `endpoint`, as the role
/// whose trust policy asks for `external_id`.
pub struct Lambda<'a> {
    pub endpoint: &'a str,
    pub external_id: &'a str,
    pub project: &'a str,
}

impl<'a> Lambda<'a> {
    /// Publishing into the fixture's project "sales".
    pub fn sales(endpoint: &'a str, external_id: &'a str) -> Self {
        Self { endpoint, external_id, project: "sales" }
    }

    /// Publishes `tables` (and views) of `schema` in `database` of `storage` as the Lambda does,
    /// runs the data source once, and answers its ID. `suffix` tells a second publication of one
    /// database from the first (its names end in it).
    pub async fn publish(
        &self,
        database: &str,
        schema: &str,
        tables: &[&str],
        suffix: &str,
        storage: Storage,
    ) -> String {
        // The operator's own HTTPS client setup, pointed at the emulator with the fixture's producer key.
        let clients = super::aws::clients(self.endpoint, 50.0).await;
        let session = super::aws::registration("Lambda/registration", "lambda", self.external_id);
        let (dz, producer) = (clients.project(&session), clients.producer(REGION));
        let (domain, _) = dz.find_domain("corp-mesh").await.unwrap().expect("the fixture's domain");
        let project = dz.find_project(&domain, self.project).await.unwrap().expect("the project");
        let blueprint = producer.find_blueprint(&domain, "DefaultDataWarehouse").await.unwrap().expect("blueprint");
        let enable = BlueprintEnablement {
            regions: vec![REGION.into()],
            provisioning_role_arn: "arn:aws:iam::222222222222:role/DataZoneProvisioning-111111111111".into(),
            manage_access_role_arn: "arn:aws:iam::222222222222:role/DzRedshiftAccess-eu-central-1-corp-mesh".into(),
            regional_parameters: Default::default(),
        };
        producer.enable_blueprint(&domain, &blueprint, &enable).await.unwrap();
        let profile = ProfileSpec {
            name: format!("lambda-profile-{database}{suffix}"),
            project_id: project.clone(),
            blueprint_id: blueprint,
            account: "222222222222".into(),
            region: REGION.into(),
            storage: storage.clone(),
            secret_arn: SECRET.into(),
        };
        let profile = dz.create_profile(&domain, &profile).await.unwrap();
        let env = dz
            .create_environment(&domain, &project, &profile, &format!("lambda-env-{database}{suffix}"), database)
            .await
            .unwrap();
        for _ in 0..100 {
            if dz.get_environment(&domain, &env.id).await.unwrap().status == EnvironmentStatus::Active {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let config = SourceConfig {
            storage,
            database: database.into(),
            secret_arn: SECRET.into(),
            filters: vec![SchemaFilter {
                schema: schema.into(),
                includes: tables.iter().map(|t| t.to_string()).collect(),
            }],
            publish_on_import: true,
            business_name_generation: false,
            schedule: None,
            asset_forms: Vec::new(),
        };
        let name = format!("{database}-datasource{suffix}");
        let binding = Binding::Environment(env.id.clone());
        let ds = dz
            .create_data_source(
                &domain,
                &project,
                &binding,
                &name,
                "Created by the registration Lambda",
                &config,
                &name,
            )
            .await
            .unwrap();
        for _ in 0..100 {
            let ready =
                dz.get_data_source(&domain, &ds.id).await.unwrap().is_some_and(|d| d.status == DataSourceStatus::Ready);
            if ready {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        dz.start_run(&domain, &ds.id, &format!("{name}-run")).await.unwrap();
        ds.id
    }
}
