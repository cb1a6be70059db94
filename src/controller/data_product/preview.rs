//! `plan`: what the operator would do for a data product, without doing it. The same connection,
//! target and observation as a reconcile pass (reads only), then every step [`plan::steps`]
//! names, the fields an update or adoption would change, and the objects a run would import.
//! Nothing is written to DataZone or to Kubernetes.

use kube::ResourceExt;

use super::observe;
use super::runs;
use super::target::{self, Target};
use crate::controller::context::Context;
use crate::controller::decide::business;
use crate::controller::decide::desired::{self, FieldChange};
use crate::controller::decide::pass::{Blocked, Phase, uid};
use crate::controller::decide::plan::{self, Step};
use crate::crd::{RECONCILE_REQUESTED_AT, RedshiftDataProduct};
use crate::datazone::{Backend, DataZone};

/// One data product's preview.
#[derive(Debug)]
pub struct Preview {
    pub steps: Vec<Step>,
    /// What an update or adoption would change in the data source.
    pub changes: Vec<FieldChange>,
    /// `schema.name` of each table and view a run would import, when one would start.
    pub objects: Vec<String>,
    /// `schema.name` of each asset whose declared business metadata would be written.
    pub metadata: Vec<String>,
}

impl Preview {
    pub fn changes_anything(&self) -> bool {
        self.steps.iter().any(Step::mutates) || !self.metadata.is_empty()
    }
}

pub async fn preview<B: Backend>(ctx: &Context<B>, p: &RedshiftDataProduct) -> Result<Preview, Blocked> {
    let status = p.status.clone().unwrap_or_default();
    let key = uid(p);
    let connected = target::connect(ctx, p, &status).await?;
    let t = Target::new(ctx, p, connected).await?;
    let seen = observe::observe(ctx, &t, &status, &key).await?;
    let requested_at = p.annotations().get(RECONCILE_REQUESTED_AT).map(String::as_str);
    let steps = plan::steps(&t.config, &t.run_hash, &seen.observed, &runs::run_state(&status, requested_at));
    let updates = steps.iter().find_map(|s| match s {
        Step::UpdateDataSource { data_source } | Step::AdoptDataSource { data_source } => Some(data_source),
        _ => None,
    });
    let changes = match updates {
        Some(id) => {
            // Seen in a listing, a data source has no configuration: read it for the diff.
            let known = seen.observed.data_source.as_ref().and_then(|d| d.config.clone());
            let actual = match known {
                Some(config) => Some(config),
                None => {
                    t.dz.get_data_source(&t.domain, id)
                        .await
                        .map_err(|e| Blocked::dz(Phase::DataSourceReady, e))?
                        .and_then(|d| d.config)
                }
            };
            actual.map(|a| desired::config_diff(&a, &t.config)).unwrap_or_default()
        }
        None => vec![],
    };
    let runs = steps.iter().any(|s| matches!(s, Step::StartRun { .. }));
    let objects = if runs {
        let mut all: Vec<String> = t.objects.iter().map(|(name, (schema, _))| format!("{schema}.{name}")).collect();
        all.sort();
        all
    } else {
        vec![]
    };
    let metadata = business::pending(&business::Declared::of(&p.spec), &status);
    Ok(Preview { steps, changes, objects, metadata })
}
