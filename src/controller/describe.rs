//! The MetadataApplied stage, once a data product is Published: each asset whose declared
//! business metadata differs from what status records it has gets one revision
//! (`CreateAssetRevision`) and, when it is in the catalog, one publication of it
//! (`CreateListingChangeSet`); an asset that is unchanged costs no call. What to write is
//! decided in [`super::business`]. (docs/datazone-semantics.md §13)

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kube::runtime::events::EventType;

use super::business::{AssetStep, Declared, TermIndex, Unresolved, form_problems, revision, revision_token, step};
use super::context::Context;
use super::pass::{Blocked, Done, Effects, Phase, Record, uid};
use super::target::Target;
use crate::crd::{AssetMetadataStatus, RedshiftDataProduct, RedshiftDataProductStatus};
use crate::datazone::{Backend, Catalog, DataZone, DzError};

const PHASE: Phase = Phase::MetadataApplied;

/// Assets revised (or asked for suggestions) in one pass: a data product of thousands of tables
/// whose forms change is brought there over several passes, without one pass holding a slot for
/// minutes.
const WRITES_PER_PASS: usize = 20;

/// How long a domain's glossary terms are trusted; how soon a reference that did not resolve
/// looks again is [`terms_retry`] (a glossary being made from Git brings its terms within moments).
const TERMS_TTL: Duration = Duration::from_secs(300);

/// Ten polls, at most 30 s.
fn terms_retry(poll: Duration) -> Duration {
    (poll * 10).min(Duration::from_secs(30))
}

/// Where the data product's assets are: name → (schema, asset ID, created by the run taken in).
type AssetIndex = BTreeMap<String, (String, String, bool)>;

/// The stage, on a pass that found the data product Published (`status` as the pass leaves it).
pub async fn describe<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    p: &RedshiftDataProduct,
    status: &RedshiftDataProductStatus,
) -> Result<Done, Blocked> {
    let blocked = |e: DzError| Blocked::dz(PHASE, e);
    let mut effects = Effects::default();
    let declared = Declared::of(&p.spec);
    if declared.is_empty() && status.asset_metadata.is_empty() {
        effects.ok(PHASE, "NothingDeclared", "the data product declares no business metadata");
        return Ok(Done::new(effects, ctx.resync));
    }
    let problems = form_problems(&declared);
    if !problems.is_empty() {
        effects.stall().not_yet(PHASE, "InvalidMetadataForm", problems.join("; "));
        return Ok(Done::new(effects, ctx.resync));
    }
    let Some(run) = status.last_run.as_ref() else {
        effects.not_yet(PHASE, "Waiting", "no data source run has imported the assets yet");
        return Ok(Done::new(effects, ctx.poll));
    };
    let entries: BTreeMap<String, AssetMetadataStatus> =
        status.asset_metadata.iter().map(|e| (e.name.clone(), e.clone())).collect();
    // Which assets the data product has, and which the run created: status lists the run's
    // assets when they are few enough (no call); else a run not taken in yet is read once (it may
    // have created or dropped assets), and otherwise status knows every asset it needs, unless
    // a table was given business metadata since and is beyond what status lists.
    let new_run = status.metadata_run_id.as_deref() != Some(run.id.as_str());
    let counts = &run.assets;
    let in_run = counts.added + counts.updated + counts.unchanged + counts.skipped + counts.failed;
    let listed_all = status.assets.len() as i64 == in_run;
    let known = |name: &String| entries.contains_key(name) || status.assets.iter().any(|a| &a.name == name);
    let (index, whole_run): (AssetIndex, bool) = if listed_all {
        let index = status
            .assets
            .iter()
            .filter_map(|a| {
                let created = new_run && a.status == "SUCCEEDED_CREATED";
                Some((a.name.clone(), (a.schema.clone(), a.asset_id.clone()?, created)))
            })
            .collect();
        (index, true)
    } else if new_run || !declared.details.keys().all(known) {
        let activities = t.dz.list_activities(&t.domain, &run.id).await.map_err(blocked)?;
        let index = activities
            .into_iter()
            .filter_map(|a| {
                let id = a.asset_id.clone()?;
                let schema = t.objects.get(&a.name).map(|(s, _)| s.clone()).unwrap_or_default();
                Some((a.name.clone(), (schema, id, new_run && a.status == "SUCCEEDED_CREATED")))
            })
            .collect();
        (index, true)
    } else {
        let mut index: AssetIndex =
            entries.values().map(|e| (e.name.clone(), (e.schema.clone(), e.asset_id.clone(), false))).collect();
        for a in &status.assets {
            if let Some(id) = &a.asset_id {
                index.entry(a.name.clone()).or_insert((a.schema.clone(), id.clone(), false));
            }
        }
        (index, false)
    };
    // The forms an asset a run created got are those of the configuration it ran with.
    let forms_current = run.config_hash.as_deref() == Some(t.run_hash.as_str());
    let mut kept: BTreeMap<String, AssetMetadataStatus> = BTreeMap::new();
    let mut to_revise = Vec::new();
    for (name, (schema, asset_id, created)) in &index {
        if !declared.covers_every_asset() && !declared.details.contains_key(name) && !entries.contains_key(name) {
            continue;
        }
        let entry = entries.get(name).filter(|e| &e.asset_id == asset_id);
        match step(&declared, schema, name, asset_id, entry, *created && forms_current) {
            AssetStep::Nothing => {
                if let Some(e) = entry {
                    kept.insert(name.clone(), e.clone());
                }
            }
            AssetStep::Record(e) => {
                kept.insert(name.clone(), e);
            }
            AssetStep::Forget => {}
            AssetStep::Revise => {
                if let Some(e) = entry {
                    // Until rewritten, status still says what it has.
                    kept.insert(name.clone(), e.clone());
                }
                to_revise.push((name.clone(), schema.clone(), asset_id.clone()));
            }
        }
    }
    // An entry of an asset the whole run did not see is of an asset no longer selected.
    if !whole_run {
        for (name, e) in &entries {
            kept.entry(name.clone()).or_insert_with(|| e.clone());
        }
    }

    let key = uid(p);
    let publish_on_import = t.config.publish_on_import;
    let mut writes = 0;
    let mut attempted = 0;
    let mut revised = 0;
    let mut unresolved: Vec<(String, Vec<Unresolved>)> = Vec::new();
    let mut terms: Option<Arc<TermIndex>> = None;
    for (name, schema, asset_id) in &to_revise {
        if writes == WRITES_PER_PASS {
            break;
        }
        attempted += 1;
        let wanted = declared.wanted(name);
        let term_ids = match &wanted.terms {
            None => None,
            Some(refs) => {
                let index = match &terms {
                    Some(i) => i.clone(),
                    None => term_index(ctx, t, refs).await.map_err(blocked)?,
                };
                terms = Some(index.clone());
                match index.resolve_all(refs) {
                    Ok(ids) => Some(ids),
                    Err(bad) => {
                        unresolved.push((name.clone(), bad));
                        continue;
                    }
                }
            }
        };
        let hash = wanted.hash();
        let token = revision_token(&key, asset_id, &hash);
        let current = t.dz.get_asset(&t.domain, asset_id).await.map_err(blocked)?;
        let before = entries.get(name).map(|e| e.forms.clone()).unwrap_or_default();
        let mut written = AssetMetadataStatus {
            schema: schema.clone(),
            name: name.clone(),
            asset_id: asset_id.clone(),
            revision: Some(current.revision.clone()),
            listing_revision: None,
            metadata_hash: hash,
            forms: wanted.form_names(),
            generation_run_id: entries.get(name).and_then(|e| e.generation_run_id.clone()),
        };
        if let Some(new) = revision(&current, &wanted, term_ids, &before, token.clone()) {
            written.revision = Some(t.dz.create_asset_revision(&t.domain, &new).await.map_err(blocked)?);
            revised += 1;
        }
        if current.listed || publish_on_import {
            let revision = written.revision.clone().unwrap_or_default();
            let listing = t.dz.publish_asset(&t.domain, asset_id, &revision, &format!("{token}-pub")).await;
            written.listing_revision = Some(listing.map_err(blocked)?);
        }
        writes += 1;
        kept.insert(name.clone(), written);
    }

    let mut generated = 0;
    if let Some(types) = p.spec.publishing.as_ref().map(|p| &p.generate_metadata).filter(|g| !g.is_empty()) {
        let types: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
        for e in kept.values_mut().filter(|e| e.generation_run_id.is_none()) {
            if writes == WRITES_PER_PASS {
                break;
            }
            let token = format!("dzop-mdgen-{:016x}", crate::naming::stable_hash(&format!("{key}|{}", e.asset_id)));
            let id = t.dz.start_metadata_generation(&t.domain, &t.project, &e.asset_id, &types, &token).await;
            e.generation_run_id = Some(id.map_err(blocked)?);
            writes += 1;
            generated += 1;
        }
    }

    let pending = to_revise.len() - attempted
        + kept.values().filter(|e| declared.generates && e.generation_run_id.is_none()).count();
    let carried = kept.len();
    effects.record(Record::AssetMetadata(kept.into_values().collect()));
    effects.record(Record::MetadataRun(run.id.clone()));
    if revised > 0 {
        effects.event(EventType::Normal, "MetadataWritten", format!("{revised} assets given a new revision"));
    }
    if generated > 0 {
        effects.event(
            EventType::Normal,
            "MetadataGenerationStarted",
            format!("suggestions asked for {generated} assets"),
        );
    }
    let requeue = if !unresolved.is_empty() {
        let named: Vec<String> = unresolved
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
        terms_retry(ctx.poll).max(ctx.poll)
    } else if pending > 0 {
        effects.not_yet(PHASE, "Applying", format!("{writes} assets written this pass, {pending} to go"));
        ctx.poll
    } else {
        let message = format!(
            "the declared business metadata is on all {carried} assets that declare any ({revised} revised in this pass)"
        );
        effects.ok(PHASE, "Applied", message);
        ctx.resync
    };
    Ok(Done::new(effects, requeue))
}

/// The domain's glossary terms, shared by every data product of the domain; looked up again
/// when `refs` name one the cached terms do not have and they are older than [`terms_retry`].
async fn term_index<B: Backend>(ctx: &Context<B>, t: &Target<B>, refs: &[String]) -> Result<Arc<TermIndex>, DzError> {
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
