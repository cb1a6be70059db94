//! The MetadataApplied stage, once a data product is Published: each asset whose declared
//! business metadata differs from what status records it has gets one revision
//! (`CreateAssetRevision`) and, when it is in the catalog, one publication of it
//! (`CreateListingChangeSet`); an asset that is unchanged costs no call. What to write is
//! decided in [`crate::controller::decide::business`]. (docs/datazone-semantics.md §13)
//!
//! Status stays small whatever the number of assets: an entry per table or view with metadata of
//! its own (bounded by the spec), one record of the data product's forms every other asset
//! carries (with how far a change of them has got, by asset name), and one of the metadata
//! generation runs asked for.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kube::runtime::events::EventType;

use super::target::Target;
use crate::controller::context::Context;
use crate::controller::decide::business::{
    Declared, DetailStep, FormsProgress, Seen, TermIndex, Unresolved, Wanted, detail_step, form_problems,
    publish_token, revision, revision_token,
};
use crate::controller::decide::pass::{Blocked, Done, Effects, Phase, Record, uid};
use crate::crd::{AssetMetadataStatus, MetadataGenerationStatus, RedshiftDataProduct, RedshiftDataProductStatus};
use crate::datazone::{Backend, Catalog, DataZone, DzError, ErrorClass};

const PHASE: Phase = Phase::MetadataApplied;

/// Asset calls of one pass (revisions and suggestion runs): a data product of thousands of
/// tables whose forms change gets there over several passes, without one pass holding a slot for
/// minutes.
const WRITES_PER_PASS: usize = 20;

/// How soon a pass with writes left over comes back.
const MORE_WRITES: Duration = Duration::from_secs(1);

/// How long a domain's glossary terms are trusted; how soon a reference that did not resolve
/// looks again is [`terms_retry`] (a glossary being made from Git brings its terms within moments).
const TERMS_TTL: Duration = Duration::from_secs(300);

/// Ten polls, at most 30 s.
fn terms_retry(poll: Duration) -> Duration {
    (poll * 10).min(Duration::from_secs(30))
}

/// The stage's outcome: what it found and did, when to look again, and an error that stopped it
/// (what it did before is in the effects all the same).
pub struct Described {
    pub done: Done,
    pub error: Option<Blocked>,
}

/// What one pass of the stage has to do and has done.
struct Work {
    budget: usize,
    revised: usize,
    unresolved: Vec<(String, Vec<Unresolved>)>,
    refused: Vec<String>,
    left: usize,
    error: Option<Blocked>,
}

impl Work {
    fn can_write(&self) -> bool {
        self.budget > 0 && self.error.is_none()
    }

    /// An asset call that failed: a refusal of that asset goes on to the others; anything else
    /// (throttling, a server error) stops the pass.
    fn failed(&mut self, asset: &str, e: DzError) {
        if e.class == ErrorClass::Terminal && !e.is_conflict() {
            self.refused.push(format!("{asset}: {}: {}", e.code, e.message));
        } else {
            self.error = Some(Blocked::dz(PHASE, e));
        }
    }
}

/// The stage, on a pass that found the data product Published (`status` as the pass leaves it).
pub async fn describe<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    p: &RedshiftDataProduct,
    status: &RedshiftDataProductStatus,
) -> Described {
    let mut effects = Effects::default();
    let declared = Declared::of(&p.spec);
    let forms = FormsProgress::new(status.asset_forms.as_ref(), declared.imported());
    let nothing = declared.details.is_empty() && declared.generate.is_empty() && forms.settled();
    if nothing && status.asset_metadata.is_empty() {
        effects.ok(PHASE, "NothingDeclared", "the data product declares no business metadata");
        effects.record(Record::MetadataGeneration(None)).record(Record::AssetForms(None));
        return Described { done: Done::new(effects, ctx.resync), error: None };
    }
    let problems = form_problems(&declared);
    if !problems.is_empty() {
        effects.stall().not_yet(PHASE, "InvalidMetadataForm", problems.join("; "));
        return Described { done: Done::new(effects, ctx.resync), error: None };
    }
    let Some(run) = status.last_run.as_ref() else {
        effects.not_yet(PHASE, "Waiting", "no data source run has imported the assets yet");
        return Described { done: Done::new(effects, ctx.poll), error: None };
    };
    let index = match assets(t, p, status, &declared, &forms, run).await {
        Ok(index) => index,
        Err(e) => return Described { done: Done::new(effects, ctx.poll), error: Some(Blocked::dz(PHASE, e)) },
    };
    let mut work =
        Work { budget: WRITES_PER_PASS, revised: 0, unresolved: vec![], refused: vec![], left: 0, error: None };
    let key = uid(p);
    let entries: BTreeMap<String, AssetMetadataStatus> =
        status.asset_metadata.iter().map(|e| (e.name.clone(), e.clone())).collect();
    let mut kept = BTreeMap::new();
    let mut terms: Option<Arc<TermIndex>> = None;

    // Tables and views with metadata of their own, and those that had some and have no more.
    for (name, seen) in &index {
        let entry = entries.get(name);
        let (wanted, written_before) = if declared.details.contains_key(name) {
            match detail_step(&declared, name, seen, entry, &forms.written_before(name, seen.created_with_forms)) {
                DetailStep::Nothing => {
                    kept.extend(entry.map(|e| (name.clone(), e.clone())));
                    continue;
                }
                DetailStep::Record(e) => {
                    kept.insert(name.clone(), e);
                    continue;
                }
                DetailStep::Revise { written_before } => (declared.wanted(name), written_before),
            }
        } else if let Some(e) = entry {
            // Its own metadata is no longer declared: back to what every asset carries (the forms
            // written for it come off; a description or terms stay, as undeclared fields do).
            (declared.imported(), e.forms.clone())
        } else {
            continue;
        };
        if !work.can_write() {
            kept.extend(entry.map(|e| (name.clone(), e.clone())));
            work.left += 1;
            continue;
        }
        let term_ids = match &wanted.terms {
            None => None,
            Some(refs) => {
                if terms.is_none() {
                    match term_index(ctx, t, refs).await {
                        Ok(index) => terms = Some(index),
                        Err(e) => {
                            work.failed(name, e);
                            continue;
                        }
                    }
                }
                match terms.as_ref().map(|i| i.resolve_all(refs)) {
                    Some(Ok(ids)) => Some(ids),
                    Some(Err(bad)) => {
                        work.unresolved.push((name.clone(), bad));
                        kept.extend(entry.map(|e| (name.clone(), e.clone())));
                        continue;
                    }
                    None => continue,
                }
            }
        };
        match write(t, &key, name, seen, &wanted, term_ids, &written_before, &mut work).await {
            Some(written) if declared.details.contains_key(name) => {
                kept.insert(name.clone(), written);
            }
            // Back to what every asset carries: no entry of its own any more.
            Some(_) => {}
            None => {
                kept.extend(entry.map(|e| (name.clone(), e.clone())));
            }
        }
    }

    // The data product's forms on every other asset, in name order.
    // A refused asset holds the change up where it is (status says how far it got, by name).
    let mut forms = forms;
    if !forms.settled() {
        let mut stopped = false;
        let others = index.iter().filter(|(n, _)| !declared.details.contains_key(*n) && !entries.contains_key(*n));
        for (name, seen) in others {
            let carries = forms.carries_target(name, seen.created_with_forms);
            if stopped {
                work.left += usize::from(!carries);
                continue;
            }
            if carries {
                forms.through(name);
                continue;
            }
            if !work.can_write() {
                stopped = true;
                work.left += 1;
                continue;
            }
            let before = forms.written_before(name, false);
            match write(t, &key, name, seen, &declared.imported(), None, &before, &mut work).await {
                Some(_) => forms.through(name),
                None => stopped = true,
            }
        }
        if !stopped {
            forms.done();
        }
    }

    // Suggestions: every asset once, then the assets later runs create.
    let generation = generate(t, &key, &declared, status.metadata_generation.as_ref(), &index, &mut work).await;

    let pending = work.left + work.unresolved.len();
    effects.record(Record::AssetMetadata(kept.into_values().collect()));
    effects.record(Record::AssetForms(Some(forms.carried.clone())));
    effects.record(Record::MetadataGeneration(generation));
    // The run (and spec) is taken in once nothing is left to do for them: until then each pass
    // looks at the run's assets again.
    if pending == 0 && work.error.is_none() {
        effects.record(Record::MetadataRun { run: run.id.clone(), generation: p.metadata.generation });
    }
    if work.revised > 0 {
        effects.event(EventType::Normal, "MetadataWritten", format!("{} assets given a new revision", work.revised));
    }
    let requeue = if !work.refused.is_empty() {
        let message = format!("DataZone refused the metadata of {}", work.refused.join("; "));
        effects.stall().not_yet(PHASE, "MetadataRefused", message);
        ctx.resync
    } else if !work.unresolved.is_empty() {
        let named: Vec<String> = work
            .unresolved
            .iter()
            .map(|(asset, refs)| {
                format!("{asset}: {}", refs.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
            })
            .collect();
        let message = format!(
            "glossary terms not found in domain {}: {}; the other assets are written",
            t.domain,
            named.join("; ")
        );
        effects.not_yet(PHASE, "UnknownGlossaryTerm", message);
        // A glossary made from Git wakes no data product: look again at the resync.
        ctx.resync
    } else if pending > 0 || work.error.is_some() {
        effects.not_yet(PHASE, "Applying", format!("{} assets revised in this pass, {pending} to go", work.revised));
        MORE_WRITES
    } else {
        let message =
            format!("the declared business metadata is on every asset ({} revised in this pass)", work.revised);
        effects.ok(PHASE, "Applied", message);
        ctx.resync
    };
    Described { done: Done::new(effects, requeue), error: work.error }
}

/// The data product's assets by name: from status when it lists all of the run's, else from the
/// run's activities — once per run and spec generation, or while a change of the data product's
/// forms or a sweep of suggestions needs every asset.
async fn assets<B: Backend>(
    t: &Target<B>,
    p: &RedshiftDataProduct,
    status: &RedshiftDataProductStatus,
    declared: &Declared,
    forms: &FormsProgress,
    run: &crate::crd::RunSummary,
) -> Result<BTreeMap<String, Seen>, DzError> {
    let new_run = status.metadata_run_id.as_deref() != Some(run.id.as_str());
    let new_spec = status.metadata_observed_generation != p.metadata.generation;
    // The forms an asset a run created got are those of the configuration it ran with.
    let forms_current = run.config_hash.as_deref() == Some(t.run_hash.as_str());
    let created = |outcome: &str| new_run && forms_current && outcome == "SUCCEEDED_CREATED";
    let counts = &run.assets;
    let in_run = counts.added + counts.updated + counts.unchanged + counts.skipped + counts.failed;
    if status.assets.len() as i64 == in_run {
        let seen = |a: &crate::crd::AssetStatus| {
            let asset_id = a.asset_id.clone()?;
            Some((a.name.clone(), Seen { schema: a.schema.clone(), asset_id, created_with_forms: created(&a.status) }))
        };
        return Ok(status.assets.iter().filter_map(seen).collect());
    }
    let sweeping = !forms.settled()
        || status.metadata_generation.as_ref().is_none_or(|g| !g.complete) && !declared.generate.is_empty();
    if new_run || new_spec || sweeping {
        let activities = t.dz.list_activities(&t.domain, &run.id).await?;
        return Ok(activities
            .into_iter()
            .filter_map(|a| {
                let asset_id = a.asset_id.clone()?;
                let schema = t.objects.get(&a.name).map(|(s, _)| s.clone()).unwrap_or_default();
                Some((a.name.clone(), Seen { schema, asset_id, created_with_forms: created(&a.status) }))
            })
            .collect());
    }
    // Taken in: the entries are every asset with metadata of its own there is.
    Ok(status
        .asset_metadata
        .iter()
        .map(|e| {
            (e.name.clone(), Seen { schema: e.schema.clone(), asset_id: e.asset_id.clone(), created_with_forms: false })
        })
        .collect())
}

/// Brings the asset `name` to `wanted`: `GetAsset`, one revision if it lacks anything, one
/// publication of it when the asset is in the catalog. What status is to record of it; `None`
/// when a call failed or DataZone refused (in `work`).
#[allow(clippy::too_many_arguments)]
async fn write<B: Backend>(
    t: &Target<B>,
    key: &str,
    name: &str,
    seen: &Seen,
    wanted: &Wanted,
    term_ids: Option<Vec<String>>,
    written_before: &[String],
    work: &mut Work,
) -> Option<AssetMetadataStatus> {
    work.budget = work.budget.saturating_sub(1);
    let id = &seen.asset_id;
    let current = match t.dz.get_asset(&t.domain, id).await {
        Ok(c) => c,
        Err(e) => {
            work.failed(name, e);
            return None;
        }
    };
    let hash = wanted.hash();
    let mut written = AssetMetadataStatus {
        schema: seen.schema.clone(),
        name: name.to_string(),
        asset_id: id.clone(),
        revision: None,
        listing_revision: None,
        metadata_hash: hash.clone(),
        forms: wanted.form_names(),
    };
    let token = revision_token(key, id, &current.revision, &hash);
    let new = match revision(&current, wanted, term_ids, written_before, token) {
        Ok(new) => new,
        Err(why) => {
            work.refused.push(format!("{name}: {why}"));
            return None;
        }
    };
    let Some(new) = new else { return Some(written) };
    let revision = match t.dz.create_asset_revision(&t.domain, &new).await {
        Ok(r) => r,
        Err(e) => {
            work.failed(name, e);
            return None;
        }
    };
    work.revised += 1;
    written.revision = Some(revision.clone());
    // In the catalog (an asset a person took out of it stays out): the new revision is not
    // listed until it is published. Not on its own when a data product is the only way to it
    // (`publishOnImport: false`): that would list it on its own.
    let only_through_products = t.declares_products && !t.config.publish_on_import;
    if current.listed && !only_through_products {
        match t.dz.publish_asset(&t.domain, id, &revision, &publish_token(key, id, &revision)).await {
            Ok(listing) => written.listing_revision = Some(listing),
            Err(e) => {
                work.failed(name, e);
                return None;
            }
        }
    }
    Some(written)
}

/// Starts the metadata generation runs `generateMetadata` asks for: every asset once (in name
/// order, across passes), then the assets each new run creates. What status is to record.
async fn generate<B: Backend>(
    t: &Target<B>,
    key: &str,
    declared: &Declared,
    before: Option<&MetadataGenerationStatus>,
    index: &BTreeMap<String, Seen>,
    work: &mut Work,
) -> Option<MetadataGenerationStatus> {
    if declared.generate.is_empty() {
        return None;
    }
    let mut g = before.filter(|g| g.types == declared.generate).cloned().unwrap_or_else(|| MetadataGenerationStatus {
        types: declared.generate.clone(),
        ..MetadataGenerationStatus::default()
    });
    let types: Vec<&str> = g.types.iter().map(String::as_str).collect();
    let due: Vec<(&String, &Seen)> = if g.complete {
        index.iter().filter(|(_, s)| s.created_with_forms).collect()
    } else {
        index.iter().filter(|(n, _)| g.through.as_deref().is_none_or(|t| n.as_str() > t)).collect()
    };
    let mut all = true;
    for (name, seen) in due {
        if !work.can_write() {
            all = false;
            work.left += 1;
            continue;
        }
        work.budget -= 1;
        let token =
            format!("dzop-mdgen-{:016x}", crate::naming::stable_hash(&format!("{key}|{}|{types:?}", seen.asset_id)));
        match t.dz.start_metadata_generation(&t.domain, &t.project, &seen.asset_id, &types, &token).await {
            Ok(_) => {
                g.started += 1;
                if !g.complete {
                    g.through = Some(name.clone());
                }
            }
            Err(e) => {
                work.failed(name, e);
                all = false;
            }
        }
    }
    if all && work.error.is_none() {
        g.complete = true;
        g.through = None;
    }
    Some(g)
}

/// The domain's glossary terms, shared by every data product of the domain; looked up again
/// when `refs` name one the cached terms do not have and they are older than [`terms_retry`].
pub(super) async fn term_index<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    refs: &[String],
) -> Result<Arc<TermIndex>, DzError> {
    let key = t.domain.clone();
    let retry = terms_retry(ctx.poll);
    if let Some(index) = ctx.shared.glossary_terms.get(&key, TERMS_TTL) {
        let fresh_enough = ctx.shared.glossary_terms.get(&key, retry).is_some();
        if fresh_enough || index.resolve_all(refs).is_ok() {
            return Ok(index);
        }
    }
    let lock = ctx.shared.glossary_terms.lock(&key);
    let _guard = lock.lock().await;
    // Another data product refreshed them meanwhile.
    if let Some(index) = ctx.shared.glossary_terms.get(&key, retry) {
        return Ok(index);
    }
    let index = Arc::new(TermIndex {
        terms: t.dz.glossary_terms(&t.domain, None).await?,
        glossaries: t.dz.glossaries(&t.domain, None).await?,
    });
    ctx.shared.glossary_terms.put(key, index.clone());
    Ok(index)
}
