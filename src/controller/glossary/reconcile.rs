//! The DataZoneGlossary controller: the glossary found by name in its project or created, each
//! declared term created when missing and its descriptions kept as declared. Every call is
//! idempotent (client tokens from the resource's UID), so a crash at any line makes nothing twice.
//! A new term is at once visible to the data products of the domain (their term cache is
//! dropped). (docs/datazone-semantics.md §13)

use std::sync::Arc;

use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};
use serde_json::json;
use tracing::Instrument;

use crate::controller::connection::guardrails;
use crate::controller::connection::resolve::{ref_session, resolve, settings_of};
use crate::controller::context::Context;
use crate::controller::decide::pass::ReconcileError;
use crate::controller::decide::pass::{Blocked, MANAGER, Phase, TERMINAL_RETRY};
use crate::controller::fleet::cache::STABLE;
use crate::controller::fleet::keys::Lookup;
use crate::crd::conditions;
use crate::crd::{DataZoneGlossary, DataZoneGlossaryStatus, GlossaryTermSpec, GlossaryTermStatus};
use crate::datazone::{Backend, Catalog, DataZone, TermInfo, TermSpec};
use crate::naming::stable_hash;

const KIND: &str = "DataZoneGlossary";
/// Conditions of a glossary name the phase of the connection for errors reaching it.
const PHASE: Phase = Phase::ConnectionResolved;

/// What to do for one declared term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TermStep {
    Create(TermSpec),
    Update { id: String, term: TermSpec },
    Keep { id: String },
}

fn spec_of(t: &GlossaryTermSpec) -> TermSpec {
    TermSpec {
        name: t.name.clone(),
        short_description: t.short_description.clone(),
        long_description: t.long_description.clone(),
    }
}

/// Each declared term against the glossary's terms in DataZone (a disabled one is enabled again:
/// data products cannot use it). Pure.
pub fn term_steps(declared: &[GlossaryTermSpec], existing: &[TermInfo]) -> Vec<TermStep> {
    let same =
        |a: &Option<String>, b: &Option<String>| a.as_deref().unwrap_or_default() == b.as_deref().unwrap_or_default();
    declared
        .iter()
        .map(|d| match existing.iter().find(|e| e.name == d.name) {
            None => TermStep::Create(spec_of(d)),
            Some(e)
                if e.enabled
                    && same(&e.short_description, &d.short_description)
                    && same(&e.long_description, &d.long_description) =>
            {
                TermStep::Keep { id: e.id.clone() }
            }
            Some(e) => TermStep::Update { id: e.id.clone(), term: spec_of(d) },
        })
        .collect()
}

fn token(uid: &str, what: &str) -> String {
    format!("dzop-glossary-{:016x}", stable_hash(&format!("{uid}|{what}")))
}

pub async fn reconcile<B: Backend>(g: Arc<DataZoneGlossary>, ctx: Arc<Context<B>>) -> Result<Action, ReconcileError> {
    let span = tracing::info_span!(
        "reconcile",
        kind = KIND,
        namespace = g.namespace().unwrap_or_default(),
        resource = g.name_any()
    );
    let started = tokio::time::Instant::now();
    let result = apply(g, ctx.clone()).instrument(span).await;
    ctx.metrics.observe_reconcile(KIND, if result.is_ok() { "ok" } else { "error" }, started.elapsed());
    result
}

async fn apply<B: Backend>(g: Arc<DataZoneGlossary>, ctx: Arc<Context<B>>) -> Result<Action, ReconcileError> {
    let namespace = g.namespace().unwrap_or_default();
    let name = g.name_any();
    let uid = g.metadata.uid.clone().unwrap_or_else(|| format!("{namespace}/{name}"));
    let before = g.status.clone().unwrap_or_default();
    let mut status = before.clone();
    let generation = g.metadata.generation;
    let now = conditions::now_rfc3339();
    let outcome = bring(&g, &ctx, &uid, &mut status).await;
    let requeue = match &outcome {
        Ok(message) => {
            conditions::set_ready(&mut status.conditions, true, false, "Ready", message, generation, &now);
            ctx.reset_backoff(&uid);
            ctx.resync
        }
        Err(b) => {
            let terminal = b.is_terminal();
            tracing::warn!(reason = %b.reason, detail = %b.message, terminal, "glossary not ready");
            conditions::set_ready(&mut status.conditions, false, terminal, &b.reason, &b.message, generation, &now);
            if terminal { TERMINAL_RETRY } else { ctx.backoff(&uid) }
        }
    };
    status.observed_generation = generation;
    if status != before {
        let api: Api<DataZoneGlossary> = Api::namespaced(ctx.client.clone(), &namespace);
        let patch = json!({"apiVersion": crate::crd::API_VERSION, "kind": KIND, "status": status});
        api.patch_status(&name, &PatchParams::apply(MANAGER).force(), &Patch::Apply(&patch)).await?;
    }
    Ok(Action::requeue(requeue))
}

/// Brings the glossary and its terms to the spec; says what it found.
async fn bring<B: Backend>(
    g: &DataZoneGlossary,
    ctx: &Context<B>,
    uid: &str,
    status: &mut DataZoneGlossaryStatus,
) -> Result<String, Blocked> {
    let dz_err = |e| Blocked::dz(PHASE, e);
    let namespace = g.namespace().unwrap_or_default();
    let settings = settings_of(&ctx.watched, &namespace, &g.spec.connection_ref)?;
    let asked = guardrails::Asked { project: &g.spec.project, ..guardrails::Asked::default() };
    let labels = ctx.watched.namespace_labels(&namespace);
    guardrails::check(&settings.allowed, labels.as_ref(), &asked, &g.spec.connection_ref, &namespace)?;
    let session = ref_session(&settings, &namespace, &g.spec.connection_ref);
    let resolved = resolve(ctx, settings, &session).await?;
    let domain = resolved.domain_id.clone();
    let dz = ctx.backend.project(&session);
    let lookup = Lookup::Project { domain: domain.clone(), project: g.spec.project.clone() };
    let project = ctx
        .shared
        .ids
        .get_or_find(lookup, STABLE, || dz.find_project(&domain, &g.spec.project))
        .await
        .map_err(dz_err)?
        .ok_or_else(|| {
            let message = format!(
                "no DataZone project {} in domain {domain} visible to {}",
                g.spec.project, resolved.assumed_role_arn
            );
            Blocked::terminal(PHASE, "ProjectNotFound", message)
        })?;
    status.domain_id = Some(domain.clone());
    status.project_id = Some(project.clone());

    let glossary_name = g.glossary_name();
    let glossaries = dz.glossaries(&domain, Some(&project)).await.map_err(dz_err)?;
    let found = glossaries.into_iter().find(|x| Some(&x.id) == status.glossary_id.as_ref() || x.name == glossary_name);
    let glossary = match found {
        Some(found) => {
            let wanted = g.spec.description.clone().unwrap_or_default();
            if found.description.clone().unwrap_or_default() != wanted {
                dz.update_glossary(&domain, &found.id, &wanted).await.map_err(dz_err)?;
            }
            found
        }
        None => match dz
            .create_glossary(&domain, &project, &glossary_name, g.spec.description.as_deref(), &token(uid, "glossary"))
            .await
        {
            Ok(made) => made,
            Err(e) if e.is_conflict() => {
                let message = format!(
                    "a glossary named {glossary_name} already exists in domain {domain}, not in project {}: name this one otherwise (spec.name)",
                    g.spec.project
                );
                return Err(Blocked::terminal(PHASE, "GlossaryNameTaken", message));
            }
            Err(e) => return Err(dz_err(e)),
        },
    };
    status.glossary_id = Some(glossary.id.clone());

    let existing: Vec<TermInfo> = dz
        .glossary_terms(&domain, Some(&project))
        .await
        .map_err(dz_err)?
        .into_iter()
        .filter(|t| t.glossary_id == glossary.id)
        .collect();
    let mut terms = Vec::new();
    let mut changed = 0;
    for step in term_steps(&g.spec.terms, &existing) {
        let (name, id) = match step {
            TermStep::Keep { id } => {
                (existing.iter().find(|t| t.id == id).map(|t| t.name.clone()).unwrap_or_default(), id)
            }
            TermStep::Update { id, term } => {
                dz.update_glossary_term(&domain, &id, &term).await.map_err(dz_err)?;
                changed += 1;
                (term.name, id)
            }
            TermStep::Create(term) => {
                let made = dz
                    .create_glossary_term(&domain, &glossary.id, &term, &token(uid, &term.name))
                    .await
                    .map_err(dz_err)?;
                changed += 1;
                (term.name, made.id)
            }
        };
        terms.push(GlossaryTermStatus { name, id });
    }
    if changed > 0 {
        // The data products of the domain see the new terms at their next look.
        ctx.shared.glossary_terms.forget(&domain);
    }
    status.term_count = Some(terms.len() as i64);
    status.terms = terms;
    Ok(format!("glossary {} ({}) has its {} terms", glossary_name, glossary.id, g.spec.terms.len()))
}

pub fn error_policy<B: Backend>(g: Arc<DataZoneGlossary>, error: &ReconcileError, ctx: Arc<Context<B>>) -> Action {
    tracing::warn!(kind = KIND, name = g.name_any(), %error, "glossary reconcile failed");
    Action::requeue(ctx.backoff(&g.metadata.uid.clone().unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(name: &str, short: Option<&str>) -> GlossaryTermSpec {
        GlossaryTermSpec { name: name.into(), short_description: short.map(Into::into), long_description: None }
    }

    fn existing(id: &str, name: &str, short: Option<&str>) -> TermInfo {
        TermInfo {
            id: id.into(),
            name: name.into(),
            glossary_id: "g".into(),
            short_description: short.map(Into::into),
            long_description: None,
            enabled: true,
        }
    }

    #[test]
    fn each_declared_term_is_created_updated_or_kept() {
        let steps = term_steps(
            &[declared("Customer", Some("who buys")), declared("Revenue", Some("net")), declared("PII", None)],
            &[
                existing("t1", "Customer", Some("who buys")),
                existing("t2", "Revenue", Some("gross")),
                existing("t3", "Old", None),
            ],
        );
        assert_eq!(
            steps,
            [
                TermStep::Keep { id: "t1".into() },
                TermStep::Update { id: "t2".into(), term: spec_of(&declared("Revenue", Some("net"))) },
                TermStep::Create(spec_of(&declared("PII", None))),
            ],
            "a term no longer declared (Old) is left as it is"
        );
        let empty_is_none = term_steps(&[declared("A", Some(""))], &[existing("t", "A", None)]);
        assert_eq!(empty_is_none, [TermStep::Keep { id: "t".into() }]);
        let mut disabled = existing("t", "A", None);
        disabled.enabled = false;
        let enabled_again = term_steps(&[declared("A", None)], &[disabled]);
        assert_eq!(enabled_again, [TermStep::Update { id: "t".into(), term: spec_of(&declared("A", None)) }]);
    }
}
