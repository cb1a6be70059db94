//! Data source runs: starting one (deterministically, within the daily quota), following it
//! to its end through the project's shared listing, and recording its outcome and assets.

use std::time::Duration;

use kube::runtime::events::EventType;

use super::target::{Demand, Target};
use crate::controller::context::Context;
use crate::controller::decide::pass::{Blocked, Done, Effects, Phase, QUOTA_RETRY, Record};
use crate::controller::decide::plan::{RunReason, RunState};
use crate::controller::fleet::snapshot::{RunSeen, run_seen};
use crate::controller::fleet::wakeups::Expected;
use crate::crd::{AssetCounts, AssetKind, AssetStatus, RedshiftDataProductStatus, RunSummary};
use crate::datazone::{ActivityInfo, AssetOutcome, Backend, DataSourceStatus, DataZone, DzError, RunInfo, RunStatus};
use crate::metrics::Metrics;

/// Assets listed in status, failed ones first.
const MAX_ASSETS_IN_STATUS: usize = 100;

const PHASE: Phase = Phase::Published;

/// The run fields of status as this pass sees them, changed as runs are recorded.
#[derive(Clone, Debug, Default)]
pub struct Runs {
    pub last: Option<RunSummary>,
    pub published: Option<i64>,
    pub assets: Vec<AssetStatus>,
    pub failures: Option<i64>,
}

impl Runs {
    pub fn of(status: &RedshiftDataProductStatus) -> Self {
        Self {
            last: status.last_run.clone(),
            published: status.published_asset_count,
            assets: status.assets.clone(),
            failures: status.consecutive_run_failures,
        }
    }

    /// The last run's status, parsed.
    pub fn last_status(&self) -> Option<RunStatus> {
        self.last.as_ref().map(|r| RunStatus::parse(&r.status))
    }

    /// The last run, if status shows it still going.
    pub fn active(&self) -> Option<&RunSummary> {
        self.last.as_ref().filter(|r| RunStatus::parse(&r.status).is_active())
    }
}

/// Where a pass following a run looks.
enum Look {
    /// The project's next listing, due in this long (nothing to see before it).
    NextListing(Duration),
    Listed(std::sync::Arc<crate::controller::fleet::snapshot::Snapshot>),
    /// The run itself: a listing of the project would not pay.
    OwnRead,
}

/// Follows a run of ours that status shows active, in the project's listing (one shared call
/// for every data product of the project). `None` when the data source is not in the listing
/// (the caller observes, and recreates, it).
pub async fn follow<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    status: &RedshiftDataProductStatus,
    caller: &str,
    now: &str,
) -> Result<Option<Done>, Blocked> {
    let blocked = |e| Blocked::dz(PHASE, e);
    let mut runs = Runs::of(status);
    let (Some(last), Some(ds_id)) = (runs.active().cloned(), status.data_source_id.as_deref()) else {
        return Ok(None);
    };
    let not_before = ctx.flights.get(caller).not_before().unwrap_or(ctx.started);
    // In a big project, listings come at their own pace: until the next, the run goes on as far
    // as anyone knows.
    let listing = if let Some(due) = t.awaits_next_listing(ctx, caller, not_before) {
        Look::NextListing(due)
    } else {
        match t.listing(ctx, caller, not_before, Demand::Settling).await.map_err(blocked)? {
            Some(listing) => Look::Listed(listing),
            None => Look::OwnRead,
        }
    };
    let next_listing = match listing {
        Look::NextListing(due) => Some(due),
        _ => None,
    };
    // The data source as the listing that shows the run over has it: the run moved its
    // `updatedAt`, so status records this one and the next resync takes the listing's word
    // instead of reading it in full (docs/datazone-semantics.md §4).
    let mut settled_at = None;
    let seen = match listing {
        Look::NextListing(_) => RunSeen::Running,
        Look::Listed(listing) => {
            let summary = listing.by_id(ds_id);
            let seen = run_seen(summary);
            // After a failed run it is read in full: a hand edit may be what broke it.
            if matches!(&seen, RunSeen::Ended { status, .. } if *status != RunStatus::Failed) {
                settled_at = summary.filter(|d| d.status == DataSourceStatus::Ready).map(|d| d.updated_at.clone());
            }
            match summary.filter(|_| seen == RunSeen::Running) {
                // The first listing that shows it moved wakes this data product.
                Some(d) => {
                    ctx.flights.saw_settling(caller, listing.taken);
                    t.watch_listing(ctx, caller, Expected::seen(d));
                }
                None => ctx.wakeups.forget(caller),
            }
            seen
        }
        // Not worth listing the project for this one: ask for the run itself.
        Look::OwnRead => RunSeen::Unknown,
    };
    let run = match seen {
        RunSeen::DataSourceGone => return Ok(None),
        RunSeen::Running => None,
        // Seen over in the listing: the data source's `updatedAt` there is the run's end, in
        // DataZone's time (its end moved it, docs/datazone-semantics.md §4).
        RunSeen::Ended { status, error } => {
            Some(RunInfo { stopped_at: settled_at.clone().flatten(), ..RunInfo::bare(&last.id, status, error) })
        }
        RunSeen::Unknown => Some(t.dz.get_run(&t.domain, &last.id).await.map_err(blocked)?),
    };
    let mut effects = Effects::default();
    if let Some(run) = run {
        record_run(&ctx.metrics, t, &mut runs, &run, now, &mut effects).await.map_err(blocked)?;
    }
    if let Some(updated_at) = settled_at {
        effects.record(Record::DataSourceSeen(updated_at));
    }
    let requeue = match runs.active() {
        Some(r) => {
            effects.not_yet(PHASE, "Running", format!("data source run {} is in progress", r.id));
            // Back when the project's next listing is due, or after a poll (backing off).
            next_listing.unwrap_or(ctx.poll)
        }
        None => published_outcome(ctx, caller, &runs, &mut effects),
    };
    Ok(Some(Done::new(effects, requeue)))
}

/// A failed run is retried after 2, 4, 8 … up to 64 minutes.
pub fn retry_wait(consecutive_failures: i64) -> Duration {
    Duration::from_secs(60) * 2u32.pow(consecutive_failures.clamp(0, 6) as u32)
}

/// What status says about runs, for [`crate::controller::decide::plan::plan`].
pub fn run_state<'a>(status: &'a RedshiftDataProductStatus, requested_at: Option<&'a str>) -> RunState<'a> {
    let failures = status.consecutive_run_failures.unwrap_or(0);
    let last = status.last_run.as_ref();
    let retry_due =
        last.and_then(|r| r.stopped_at.as_deref()).and_then(|t| t.parse::<jiff::Timestamp>().ok()).is_some_and(
            |stopped| jiff::Timestamp::now().duration_since(stopped).as_secs() >= retry_wait(failures).as_secs() as i64,
        );
    RunState {
        last: last.map(|r| (r.id.as_str(), RunStatus::parse(&r.status))),
        last_config_hash: last.and_then(|r| r.config_hash.as_deref()),
        requested_at,
        handled: status.last_handled_reconcile_at.as_deref(),
        consecutive_failures: failures as u32,
        retry_due,
    }
}

/// Adds up a run's activities the way DataZone's run statistics count them
/// (docs/datazone-semantics.md §6).
pub fn asset_counts(activities: &[ActivityInfo]) -> AssetCounts {
    let mut c = AssetCounts::default();
    for a in activities {
        match a.outcome {
            AssetOutcome::Added => c.added += 1,
            AssetOutcome::Updated => c.updated += 1,
            AssetOutcome::Unchanged => c.unchanged += 1,
            AssetOutcome::Skipped => c.skipped += 1,
            AssetOutcome::Failed => c.failed += 1,
        }
    }
    c
}

/// What a run start needs from the data product.
pub struct RunStart<'a> {
    pub uid: &'a str,
    pub generation: Option<i64>,
    pub data_source: &'a str,
    pub reason: RunReason,
    pub requested_at: Option<&'a str>,
}

pub async fn start_run<B: Backend>(
    ctx: &Context<B>,
    t: &Target<B>,
    status: &RedshiftDataProductStatus,
    start: RunStart<'_>,
    caller: &str,
    now: &str,
) -> Result<Done, Blocked> {
    let reason = start.reason.as_str();
    let mut runs = Runs::of(status);
    // Deterministic per trigger: a retried start after a crash gets the same run back.
    let trigger = match start.reason {
        RunReason::Requested => start.requested_at.unwrap_or_default().to_string(),
        RunReason::Retry => format!("retry{}", runs.failures.unwrap_or(0)),
        _ => t.run_hash.clone(),
    };
    let token = format!("{}-{}", start.uid, crate::naming::short_hash(&format!("{}|{trigger}", start.data_source)));
    let mut effects = Effects::default();
    match t.dz.start_run(&t.domain, start.data_source, &token).await {
        Ok(run) => {
            ctx.wrote(caller, None);
            ctx.shared.run_starts.started(start.data_source, tokio::time::Instant::now());
            if start.reason == RunReason::Requested {
                effects.record(Record::RequestHandled(start.requested_at.map(str::to_string)));
            }
            runs.last = Some(RunSummary {
                id: run.id.clone(),
                generation: start.generation,
                reason: Some(reason.to_string()),
                config_hash: Some(t.run_hash.clone()),
                ..RunSummary::default()
            });
            // A retried start may answer with a run that has already finished.
            record_run(&ctx.metrics, t, &mut runs, &run, now, &mut effects).await.map_err(|e| Blocked::dz(PHASE, e))?;
            effects
                .event(EventType::Normal, "RunStarted", format!("started data source run {} ({reason})", run.id))
                .not_yet(PHASE, "Running", format!("data source run {} started ({reason})", run.id));
            Ok(Done::new(effects, ctx.poll))
        }
        Err(e) if e.code == "ServiceQuotaExceededException" => {
            let message = format!(
                "the daily run quota of this data source (25 by default) is used up; trying again in an hour: {}",
                e.message
            );
            effects.stall().not_yet(PHASE, "RunQuotaExceeded", message);
            Ok(Done::new(effects, QUOTA_RETRY))
        }
        Err(e) if e.is_conflict() => {
            effects.not_yet(PHASE, "Waiting", format!("DataZone refused a run now: {}", e.message));
            Ok(Done::new(effects, ctx.poll))
        }
        // Deleted behind the operator's back between the pass's look and this start: status
        // forgets it, so the next pass finds it by name or makes it again. Status kept, every
        // pass would trust it and start a run on a data source that is not there.
        Err(e) if e.is_not_found() => {
            super::observe::forget_missing(&mut effects, start.data_source).not_yet(
                PHASE,
                "DataSourceMissing",
                format!("data source {} was not found: {}", start.data_source, e.message),
            );
            Ok(Done::new(effects, ctx.poll))
        }
        Err(e) => Err(Blocked::dz(PHASE, e)),
    }
}

/// Records `run` as the last run; a finished run also brings its activities into the assets.
async fn record_run<B: Backend>(
    metrics: &Metrics,
    t: &Target<B>,
    runs: &mut Runs,
    run: &RunInfo,
    now: &str,
    effects: &mut Effects,
) -> Result<(), DzError> {
    let mut summary = runs.last.clone().filter(|l| l.id == run.id).unwrap_or_default();
    summary.id = run.id.clone();
    summary.status = run.status.to_string();
    summary.started_at = run.started_at.clone().or(summary.started_at);
    summary.stopped_at = run.stopped_at.clone();
    summary.assets = AssetCounts {
        added: run.added,
        updated: run.updated,
        unchanged: run.unchanged,
        skipped: run.skipped,
        failed: run.failed,
    };
    summary.error_message = run.error.clone();
    if run.status.is_terminal() {
        let activities = t.dz.list_activities(&t.domain, &run.id).await?;
        // The activities are the run's outcome object by object; they add up to its statistics,
        // so a run seen ending in the project listing needs no GetDataSourceRun.
        summary.assets = asset_counts(&activities);
        // Seen in the listing, a failed run has no stop time: the pass that saw it over stands in.
        summary.stopped_at = run.stopped_at.clone().or_else(|| Some(now.to_string()));
        let mut assets: Vec<AssetStatus> = activities
            .iter()
            .map(|a| {
                // An object the spec and the catalog listing do not know is reported as a table.
                let (schema, kind) = t.objects.get(&a.name).cloned().unwrap_or((String::new(), AssetKind::Table));
                AssetStatus {
                    schema,
                    name: a.name.clone(),
                    kind,
                    asset_id: a.asset_id.clone(),
                    status: a.status.clone(),
                }
            })
            .collect();
        // Failed ones first, then by name; capped.
        assets.sort_by_key(|a| (AssetOutcome::of(&a.status) != AssetOutcome::Failed, a.name.clone()));
        assets.truncate(MAX_ASSETS_IN_STATUS);
        let imported = activities.iter().filter(|a| a.outcome.is_imported()).count() as i64;
        observe_end(metrics, t, runs, &summary, &run.status, imported);
        runs.published = Some(imported);
        runs.assets = assets.clone();
        effects.record(Record::Assets { assets, published: imported });
        if run.status == RunStatus::Success {
            runs.failures = None;
            effects.event(
                EventType::Normal,
                "RunSucceeded",
                format!("run {} imported {imported} assets ({} new)", run.id, summary.assets.added),
            );
        } else {
            runs.failures = Some(runs.failures.unwrap_or(0) + 1);
            let failed: Vec<&str> =
                activities.iter().filter(|a| a.outcome == AssetOutcome::Failed).map(|a| a.name.as_str()).collect();
            let detail = if failed.is_empty() {
                run.error.clone().unwrap_or_default()
            } else {
                format!("failed: {}", failed.join(", "))
            };
            effects.event(EventType::Warning, "RunFailed", format!("run {} ended {}: {detail}", run.id, run.status));
        }
        effects.record(Record::RunFailures(runs.failures));
    }
    effects.record(Record::Run(summary.clone()));
    runs.last = Some(summary);
    Ok(())
}

/// A run seen ending, in the metrics: its status and duration, and the data product's first
/// publish (creation to the end of its first run, when that run imported assets: status records
/// no run that ended before it). A data product whose first run failed is not counted when a
/// later one succeeds (status cannot tell that run from a republish months later).
fn observe_end<B: Backend>(
    metrics: &Metrics,
    t: &Target<B>,
    before: &Runs,
    run: &RunSummary,
    status: &RunStatus,
    imported: i64,
) {
    let at = |s: Option<&str>| s.and_then(|s| s.parse::<jiff::Timestamp>().ok());
    metrics.runs.with_label_values(&[&status.to_string()]).inc();
    let stopped = at(run.stopped_at.as_deref());
    if let (Some(started), Some(stopped)) = (at(run.started_at.as_deref()), stopped) {
        metrics.run_seconds.observe(stopped.duration_since(started).as_secs_f64().max(0.0));
    }
    if before.published.is_none()
        && imported > 0
        && let (Some(created), Some(stopped)) = (t.created, stopped)
    {
        metrics.first_publish_seconds.observe(stopped.duration_since(created).as_secs_f64().max(0.0));
    }
}

/// What went wrong in the last run, naming the failed objects.
pub fn run_failure_message(runs: &Runs) -> String {
    let Some(run) = &runs.last else { return "no run yet".into() };
    let failed: Vec<&str> = runs
        .assets
        .iter()
        .filter(|a| AssetOutcome::of(&a.status) == AssetOutcome::Failed)
        .map(|a| a.name.as_str())
        .collect();
    let detail = if failed.is_empty() {
        run.error_message.clone().unwrap_or_default()
    } else {
        format!("failed: {}", failed.join(", "))
    };
    format!("run {} ended {} ({} added, {} failed) {detail}", run.id, run.status, run.assets.added, run.assets.failed)
}

/// Published from the last run's outcome, and when to look again.
pub fn published_outcome<B: Backend>(ctx: &Context<B>, caller: &str, runs: &Runs, effects: &mut Effects) -> Duration {
    match runs.last_status() {
        Some(RunStatus::Success) => {
            ctx.flights.landed(caller);
            let n = runs.published.unwrap_or(0);
            let by = runs.last.as_ref().map(|r| format!(" by run {}", r.id)).unwrap_or_default();
            effects.ok(PHASE, "Published", format!("{n} assets published{by}"));
            ctx.resync
        }
        Some(status) => {
            ctx.flights.landed(caller);
            // Retried with backoff, but a failed object usually needs a person.
            let reason = if status == RunStatus::PartiallySucceeded { "PartiallySucceeded" } else { "RunFailed" };
            effects.stall().not_yet(PHASE, reason, run_failure_message(runs));
            // Look again when the retry is due.
            retry_wait(runs.failures.unwrap_or(1))
        }
        None => ctx.poll,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activities_add_up_like_run_statistics() {
        use AssetOutcome::{Added, Failed, Skipped, Unchanged, Updated};
        let activity = |outcome| ActivityInfo {
            database: "sales".into(),
            name: "t".into(),
            outcome,
            status: String::new(),
            asset_id: None,
            error: None,
        };
        let outcomes = [Added, Added, Updated, Unchanged, Skipped, Skipped, Skipped, Failed, Failed];
        let all: Vec<ActivityInfo> = outcomes.into_iter().map(activity).collect();
        assert_eq!(asset_counts(&all), AssetCounts { added: 2, updated: 1, unchanged: 1, skipped: 3, failed: 2 });
        assert_eq!(asset_counts(&[]), AssetCounts::default());
    }
}
