//! [`Producer`] over the AWS SDK: the calls made with the operator's own (producer account)
//! identity — its account, the blueprint and its enablement, and Redshift's tables through the
//! Data API.

use super::sdk_convert::sdk_error;
use super::{BlueprintEnablement, DzError, ErrorClass, ObjectKind, Producer, Storage};

#[derive(Clone)]
pub struct SdkProducer {
    pub(super) datazone: aws_sdk_datazone::Client,
    pub(super) sts: aws_sdk_sts::Client,
    pub(super) redshift: aws_sdk_redshiftdata::Client,
}

impl Producer for SdkProducer {
    async fn account(&self) -> Result<String, DzError> {
        let me = self.sts.get_caller_identity().send().await.map_err(|e| sdk_error("GetCallerIdentity", e))?;
        me.account().map(str::to_string).ok_or_else(|| {
            DzError::new(ErrorClass::Retryable, "GetCallerIdentity", "NoAccount", "no account in the answer")
        })
    }

    async fn find_blueprint(&self, domain: &str, name: &str) -> Result<Option<String>, DzError> {
        // Match the name on the client, as CloudFormation and Terraform do (docs/datazone-semantics.md §2).
        let mut token = None;
        loop {
            let page = self
                .datazone
                .list_environment_blueprints()
                .domain_identifier(domain)
                .managed(true)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| sdk_error("ListEnvironmentBlueprints", e))?;
            if let Some(b) = page.items().iter().find(|b| b.name() == name) {
                return Ok(Some(b.id().to_string()));
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(None);
            }
        }
    }

    async fn blueprint_regions(&self, domain: &str, blueprint: &str) -> Result<Option<Vec<String>>, DzError> {
        match self
            .datazone
            .get_environment_blueprint_configuration()
            .domain_identifier(domain)
            .environment_blueprint_identifier(blueprint)
            .send()
            .await
        {
            Ok(c) => Ok(Some(c.enabled_regions().to_vec())),
            Err(e) => {
                let e = sdk_error("GetEnvironmentBlueprintConfiguration", e);
                if e.is_not_found() { Ok(None) } else { Err(e) }
            }
        }
    }

    async fn enable_blueprint(
        &self,
        domain: &str,
        blueprint: &str,
        enable: &BlueprintEnablement,
    ) -> Result<(), DzError> {
        let regional = (!enable.regional_parameters.is_empty()).then(|| {
            enable.regional_parameters.iter().map(|(r, p)| (r.clone(), p.clone().into_iter().collect())).collect()
        });
        self.datazone
            .put_environment_blueprint_configuration()
            .domain_identifier(domain)
            .environment_blueprint_identifier(blueprint)
            .set_enabled_regions(Some(enable.regions.clone()))
            .provisioning_role_arn(&enable.provisioning_role_arn)
            .manage_access_role_arn(&enable.manage_access_role_arn)
            .set_regional_parameters(regional)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("PutEnvironmentBlueprintConfiguration", e))
    }

    async fn list_objects(
        &self,
        storage: &Storage,
        database: &str,
        schema: &str,
        secret_arn: &str,
    ) -> Result<Vec<(String, ObjectKind)>, DzError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut request = self
                .redshift
                .list_tables()
                .database(database)
                .secret_arn(secret_arn)
                .schema_pattern(schema)
                .max_results(1000)
                .set_next_token(token);
            request = match storage {
                Storage::Cluster(c) => request.cluster_identifier(c),
                Storage::Workgroup(w) => request.workgroup_name(w),
            };
            let page = request.send().await.map_err(|e| sdk_error("ListTables", e))?;
            // LIKE's `_` matches any character: keep the exact schema only.
            out.extend(
                page.tables()
                    .iter()
                    .filter(|t| t.schema() == Some(schema))
                    .filter_map(|t| Some((t.name()?.to_string(), ObjectKind::parse(t.r#type()?)?))),
            );
            token = page.next_token().filter(|t| !t.is_empty()).map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }
}
