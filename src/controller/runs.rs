//! Data source runs: starting one (deterministically, within the daily quota), following it
//! to its end through the project's shared listing, and recording its outcome and assets.

use std::time::Duration;

use kube::runtime::events::EventType;

use super::plan::{RunReason, RunState, is_active};
use super::reconcile::{Blocked, Pass, QUOTA_RETRY};
use super::snapshot::{RunSeen, run_seen};
use super::target::Target;
use crate::crd::conditions::PUBLISHED;
use crate::crd::{AssetCounts, AssetKind, AssetStatus, RedshiftDataProduct, RedshiftDataProductStatus, RunSummary};
use crate::datazone::{ActivityInfo, DataZone, DzError, RunInfo};

/// Assets listed in status, failed ones first.
const MAX_ASSETS_IN_STATUS: usize = 100;

/// Follows a run of ours that status shows active, in the project's listing (one shared call
/// for every data product of the project). `Some(requeue)` when this pass is done; `None` when
/// the data source is not in the listing (the caller observes, and recreates, it).
pub(super) async fn follow(pass: &mut Pass<'_>, t: &Target) -> Result<Option<Duration>, DzError> {
    let ctx = pass.ctx;
    let Some(last) = pass.status.last_run.clone() else { return Ok(None) };
    let not_before = ctx.flights.get(&pass.key).since.unwrap_or(ctx.started);
    let ds_id = pass.status.data_source_id.clone().unwrap_or_default();
    let seen = match t.listing(ctx, &pass.key, not_before).await? {
        Some(listing) => run_seen(listing.by_id(&ds_id)),
        // Not worth listing the project for this one: ask for the run itself.
        None => RunSeen::Unknown,
    };
    let run = match seen {
        RunSeen::DataSourceGone => return Ok(None),
        RunSeen::Running => None,
        RunSeen::Ended { status, error } => Some(RunInfo {
            id: last.id.clone(),
            status,
            started_at: None,
            stopped_at: None,
            added: 0,
            updated: 0,
            unchanged: 0,
            skipped: 0,
            failed: 0,
            error,
        }),
        RunSeen::Unknown => Some(t.dz.get_run(&t.domain, &last.id).await?),
    };
    if let Some(run) = run {
        record_run(pass, t, &run).await?;
    }
    match pass.status.last_run.as_ref().filter(|r| is_active(&r.status)) {
        Some(r) => {
            let message = format!("data source run {} is in progress", r.id);
            pass.not_yet(PUBLISHED, "Running", &message);
            Ok(Some(ctx.poll))
        }
        None => Ok(Some(published_outcome(pass))),
    }
}

/// A failed run is retried after 2, 4, 8 … up to 64 minutes.
pub fn retry_wait(consecutive_failures: i64) -> Duration {
    Duration::from_secs(60) * 2u32.pow(consecutive_failures.clamp(0, 6) as u32)
}

/// What status says about runs, for [`super::plan::plan`].
pub(super) fn run_state<'a>(status: &'a RedshiftDataProductStatus, requested_at: Option<&'a str>) -> RunState<'a> {
    let failures = status.consecutive_run_failures.unwrap_or(0);
    let last = status.last_run.as_ref();
    let retry_due =
        last.and_then(|r| r.stopped_at.as_deref()).and_then(|t| t.parse::<jiff::Timestamp>().ok()).is_some_and(
            |stopped| jiff::Timestamp::now().duration_since(stopped).as_secs() >= retry_wait(failures).as_secs() as i64,
        );
    RunState {
        last: last.map(|r| (r.id.as_str(), r.status.as_str())),
        last_config_hash: last.and_then(|r| r.config_hash.as_deref()),
        requested_at,
        handled: status.last_handled_reconcile_at.as_deref(),
        consecutive_failures: failures as u32,
        retry_due,
    }
}

/// Adds up a run's activities the way DataZone's run statistics count them (datazone-api.md §6).
pub fn asset_counts(activities: &[ActivityInfo]) -> AssetCounts {
    let mut c = AssetCounts::default();
    for a in activities {
        match a.status.as_str() {
            "SUCCEEDED_CREATED" => c.added += 1,
            "SUCCEEDED_UPDATED" => c.updated += 1,
            "UNCHANGED" => c.unchanged += 1,
            s if s.starts_with("SKIPPED") => c.skipped += 1,
            _ => c.failed += 1,
        }
    }
    c
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn start_run(
    pass: &mut Pass<'_>,
    t: &Target,
    p: &RedshiftDataProduct,
    reason: RunReason,
    requested_at: Option<&str>,
) -> Result<Duration, Blocked> {
    let ctx = pass.ctx;
    let ds_id = pass.status.data_source_id.clone().unwrap_or_default();
    let reason_text = format!("{reason:?}");
    // Deterministic per trigger: a retried start after a crash gets the same run back.
    let trigger = match reason {
        RunReason::Requested => requested_at.unwrap_or_default().to_string(),
        RunReason::Retry => format!("retry{}", pass.status.consecutive_run_failures.unwrap_or(0)),
        _ => t.run_hash.clone(),
    };
    let token = format!(
        "{}-{}",
        p.metadata.uid.clone().unwrap_or_default(),
        crate::naming::short_hash(&format!("{ds_id}|{trigger}"))
    );
    match t.dz.start_run(&t.domain, &ds_id, &token).await {
        Ok(run) => {
            ctx.flights.wrote(&pass.key, None);
            if reason == RunReason::Requested {
                pass.status.last_handled_reconcile_at = requested_at.map(str::to_string);
            }
            pass.status.last_run = Some(RunSummary {
                id: run.id.clone(),
                generation: p.metadata.generation,
                reason: Some(reason_text.clone()),
                config_hash: Some(t.run_hash.clone()),
                ..RunSummary::default()
            });
            // A retried start may answer with a run that has already finished.
            record_run(pass, t, &run).await.map_err(|e| Blocked::from_dz(PUBLISHED, e, ctx, &pass.key))?;
            pass.event(EventType::Normal, "RunStarted", format!("started data source run {} ({reason_text})", run.id));
            pass.not_yet(PUBLISHED, "Running", &format!("data source run {} started ({reason_text})", run.id));
            Ok(ctx.poll)
        }
        Err(e) if e.code == "ServiceQuotaExceededException" => {
            pass.stalled = true;
            pass.not_yet(
                PUBLISHED,
                "RunQuotaExceeded",
                &format!(
                    "the daily run quota of this data source (25 by default) is used up; trying again in an hour: {}",
                    e.message
                ),
            );
            Ok(QUOTA_RETRY)
        }
        Err(e) if e.is_conflict() => {
            pass.not_yet(PUBLISHED, "Waiting", &format!("DataZone refused a run now: {}", e.message));
            Ok(ctx.poll)
        }
        Err(e) => Err(Blocked::from_dz(PUBLISHED, e, ctx, &pass.key)),
    }
}

/// Records `run` in status.lastRun; a finished run also brings its activities into status.assets.
async fn record_run(pass: &mut Pass<'_>, t: &Target, run: &RunInfo) -> Result<(), DzError> {
    let mut summary = pass.status.last_run.clone().filter(|l| l.id == run.id).unwrap_or_default();
    summary.id = run.id.clone();
    summary.status = run.status.clone();
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
    if run.is_terminal() {
        let activities = t.dz.list_activities(&t.domain, &run.id).await?;
        // The activities are the run's outcome object by object; they add up to its statistics,
        // so a run seen ending in the project listing needs no GetDataSourceRun.
        summary.assets = asset_counts(&activities);
        // Seen in the listing, a run has no stop time: the pass that saw it over stands in.
        summary.stopped_at = run.stopped_at.clone().or_else(|| Some(pass.now.clone()));
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
        assets.sort_by_key(|a| (!a.status.contains("FAILED"), a.name.clone()));
        assets.truncate(MAX_ASSETS_IN_STATUS);
        let imported = activities
            .iter()
            .filter(|a| matches!(a.status.as_str(), "SUCCEEDED_CREATED" | "SUCCEEDED_UPDATED" | "UNCHANGED"))
            .count() as i64;
        pass.status.published_asset_count = Some(imported);
        pass.status.assets = assets;
        if run.status == "SUCCESS" {
            pass.status.consecutive_run_failures = None;
            pass.event(
                EventType::Normal,
                "RunSucceeded",
                format!("run {} imported {imported} assets ({} new)", run.id, summary.assets.added),
            );
        } else {
            pass.status.consecutive_run_failures = Some(pass.status.consecutive_run_failures.unwrap_or(0) + 1);
            let failed: Vec<String> =
                activities.iter().filter(|a| a.status.contains("FAILED")).map(|a| a.name.clone()).collect();
            let detail = if failed.is_empty() {
                run.error.clone().unwrap_or_default()
            } else {
                format!("failed: {}", failed.join(", "))
            };
            pass.event(EventType::Warning, "RunFailed", format!("run {} ended {}: {detail}", run.id, run.status));
        }
    }
    pass.status.last_run = Some(summary);
    Ok(())
}

/// What went wrong in the last run, naming the failed objects.
pub(super) fn run_failure_message(status: &RedshiftDataProductStatus) -> String {
    let Some(run) = &status.last_run else { return "no run yet".into() };
    let failed: Vec<&str> =
        status.assets.iter().filter(|a| a.status.contains("FAILED")).map(|a| a.name.as_str()).collect();
    let detail = if failed.is_empty() {
        run.error_message.clone().unwrap_or_default()
    } else {
        format!("failed: {}", failed.join(", "))
    };
    format!("run {} ended {} ({} added, {} failed) {detail}", run.id, run.status, run.assets.added, run.assets.failed)
}

/// Published from the last run's outcome, and when to look again.
pub(super) fn published_outcome(pass: &mut Pass) -> Duration {
    let last = pass.status.last_run.clone();
    match last.as_ref().map(|r| r.status.as_str()) {
        Some("SUCCESS") => {
            pass.ctx.flights.landed(&pass.key);
            let n = pass.status.published_asset_count.unwrap_or(0);
            let run = last.as_ref().map(|r| r.id.as_str()).unwrap_or_default();
            pass.ok(PUBLISHED, "Published", &format!("{n} assets published by run {run}"));
            pass.ctx.resync
        }
        Some(status) => {
            pass.ctx.flights.landed(&pass.key);
            // Retried with backoff, but a failed object usually needs a person.
            pass.stalled = true;
            let reason = if status == "PARTIALLY_SUCCEEDED" { "PartiallySucceeded" } else { "RunFailed" };
            pass.not_yet(PUBLISHED, reason, &run_failure_message(&pass.status));
            // Look again when the retry is due.
            retry_wait(pass.status.consecutive_run_failures.unwrap_or(1))
        }
        None => pass.ctx.poll,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activities_add_up_like_run_statistics() {
        let activity = |status: &str| ActivityInfo {
            database: "sales".into(),
            name: "t".into(),
            status: status.into(),
            asset_id: None,
            error: None,
        };
        let statuses = [
            "SUCCEEDED_CREATED",
            "SUCCEEDED_CREATED",
            "SUCCEEDED_UPDATED",
            "UNCHANGED",
            "SKIPPED_ALREADY_IMPORTED",
            "SKIPPED_ARCHIVED",
            "SKIPPED_NO_ACCESS",
            "FAILED",
            "PUBLISHING_FAILED",
        ];
        let all: Vec<ActivityInfo> = statuses.iter().map(|s| activity(s)).collect();
        assert_eq!(asset_counts(&all), AssetCounts { added: 2, updated: 1, unchanged: 1, skipped: 3, failed: 2 });
        assert_eq!(asset_counts(&[]), AssetCounts::default());
    }
}
