//! Pacing: DataZone's rate limits apply per account and region (docs/datazone-semantics.md §8),
//! and a call over them costs a `ThrottlingException` (429), an SDK backoff of up to seconds and a
//! retry. Every data product of a producer cluster calls DataZone in the same governance account,
//! so without pacing a thousand of them find the limit by being refused. A [`Pacer`] per (account,
//! region) sends calls at a rate instead, and learns that rate: it grows while callers queue for
//! it and no call is refused (faster at first, until the first refusal), and is cut back on a
//! refusal (additive increase, multiplicative decrease, as TCP finds a link's capacity). Every
//! attempt goes through it, the SDK's retries included, because it sits in the HTTP connector.
//!
//! The decision ([`Pace`]) is pure and takes the time as an argument, so it is table-tested; the
//! connector around it ([`PacedHttpClient`]) only sleeps until the slot it was given.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use prometheus::{Gauge, GaugeVec};

/// The slowest pace: a call a second, so even a refusing account is asked now and then.
const SLOWEST: f64 = 1.0;
/// The fastest pace; far above any documented DataZone quota (20 TPS for most of its calls).
const FASTEST: f64 = 1000.0;
/// A refusal cuts the rate to this share of what it was.
const CUT: f64 = 0.85;
/// ... or, when the second before also saw refusals, to this share of what got through in it: the
/// service's own rate, found in one step however far the pace overshot.
const THROUGH: f64 = 0.95;
/// Refusals closer together than this are one event: calls sent before a cut come back refused
/// after it and must not cut again.
const CUT_SPACING: Duration = Duration::from_secs(1);
/// After the first refusal, each call answered while callers queue raises the rate by this share
/// of a call a second: about 2 % a second at any rate.
const GROWTH: f64 = 0.02;
/// Before it: 50 % a second, to find the limit quickly from a cautious start.
const FIRST_GROWTH: f64 = 0.5;
/// Callers queued within this long ago mean demand is at the pace: only then does it grow.
const QUEUED_RECENTLY: Duration = Duration::from_secs(1);
/// The pace is in use while calls go at at least this share of it; only then does it grow, or is
/// cut on a refusal: one that comes while the operator sends far below its pace is not about its
/// pace (another client of the account, or a service having a moment), and slowing down further
/// would not stop it; the SDK's retry and the controller's brake deal with those.
const BUSY_SHARE: f64 = 0.5;
/// The load is each second's calls over the rate, smoothed with this weight for the newest second:
/// about the last ten seconds count.
const LOAD_WEIGHT: f64 = 0.1;
/// The pace is saturated while the smoothed load is at least this: callers have queued for their
/// slots for tens of seconds, as while a fleet publishes, not for the few seconds one listing of
/// 200 pages takes (that lifts the load of a steady state by about a third, from wherever it was).
const SATURATED: f64 = 0.85;

/// Calls of one second: sent (by their slot), answered, refused.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    sent: u32,
    answered: u32,
    refused: u32,
}

/// The pace of one account and region.
#[derive(Clone, Debug)]
pub struct Pace {
    /// Calls a second.
    rate: f64,
    /// The earliest time the next call may go.
    next: Instant,
    last_cut: Option<Instant>,
    last_queued: Option<Instant>,
    /// When the current second began, its tally, and the tally of the second before.
    second: (Instant, Tally, Tally),
    /// The share of the rate the last seconds used, smoothed ([`LOAD_WEIGHT`]).
    load: f64,
}

impl Pace {
    pub fn new(rate: f64, now: Instant) -> Self {
        let next = now;
        let second = (now, Tally::default(), Tally::default());
        Self { rate: rate.clamp(SLOWEST, FASTEST), next, last_cut: None, last_queued: None, second, load: 0.0 }
    }

    /// The tallies of this second and the last, moved on to `now`; each second that ends goes
    /// into the load (the quiet ones as nothing sent).
    fn tallies(&mut self, now: Instant) -> (&mut Tally, Tally) {
        let (start, current, _) = self.second;
        let elapsed = now.saturating_duration_since(start);
        if elapsed >= Duration::from_secs(1) {
            let used = (f64::from(current.sent) / self.rate).min(1.0);
            self.load += LOAD_WEIGHT * (used - self.load);
            let quiet = i32::try_from(elapsed.as_secs() - 1).unwrap_or(i32::MAX);
            self.load *= (1.0 - LOAD_WEIGHT).powi(quiet);
        }
        if elapsed >= Duration::from_secs(2) {
            self.second = (now, Tally::default(), Tally::default());
        } else if elapsed >= Duration::from_secs(1) {
            self.second = (start + Duration::from_secs(1), Tally::default(), current);
        }
        (&mut self.second.1, self.second.2)
    }

    /// Whether callers have kept the pace busy for a while (see [`SATURATED`]): every call more
    /// then waits behind the others, and a call that only looks (a listing of a project of
    /// thousands) postpones one that makes progress.
    pub fn saturated(&mut self, now: Instant) -> bool {
        self.tallies(now);
        self.load >= SATURATED
    }

    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Takes the next slot: the time the call may go. Calls are spaced evenly, even after a quiet
    /// while: a burst is what a service's token bucket refuses when it is nearly empty, and
    /// after a refusal it is.
    pub fn reserve(&mut self, now: Instant) -> Instant {
        let at = self.next.max(now);
        self.next = at + Duration::from_secs_f64(1.0 / self.rate);
        self.tallies(now).0.sent += 1;
        if at > now {
            self.last_queued = Some(now);
        }
        at.max(now)
    }

    /// A call came back; `refused` when the service said the rate was exceeded.
    pub fn answered(&mut self, now: Instant, refused: bool) {
        let rate = self.rate;
        let (current, last) = self.tallies(now);
        current.answered += 1;
        let busy = f64::from(current.sent.max(last.sent)) >= BUSY_SHARE * rate;
        if refused {
            current.refused += 1;
            if busy && self.last_cut.is_none_or(|at| now.duration_since(at) >= CUT_SPACING) {
                // A second that saw refusals tells what the service lets through; without one,
                // a plain cut.
                let through = f64::from(last.answered - last.refused);
                let cut = if last.refused > 0 { (through * THROUGH).min(self.rate) } else { self.rate * CUT };
                self.rate = cut.max(SLOWEST);
                self.last_cut = Some(now);
            }
            return;
        }
        // Grown only while it is used: a pace far above what is sent says nothing about the
        // service, and would let a burst through all at once.
        let queued = self.last_queued.is_some_and(|at| now.duration_since(at) < QUEUED_RECENTLY);
        if queued && busy {
            let growth = if self.last_cut.is_some() { GROWTH } else { FIRST_GROWTH };
            self.rate = (self.rate + growth).min(FASTEST);
        }
    }
}

/// A wait for a slot this long is logged (debug): where a fleet's time goes.
const SLOW_SLOT: Duration = Duration::from_millis(500);

/// An account ID and a region.
type AccountRegion = (String, String);

/// One [`Pace`] per (account, region), shared by every client that calls as that account.
#[derive(Clone, Debug)]
pub struct Pacers {
    start: f64,
    paces: Arc<Mutex<HashMap<AccountRegion, Arc<Pacer>>>>,
    /// Where each pace is shown: `datazone_operator_aws_pace{account, region}`.
    shown: GaugeVec,
}

impl Pacers {
    /// Pacers that start at `start` calls a second.
    pub fn new(start: f64, shown: GaugeVec) -> Self {
        Self { start, paces: Arc::default(), shown }
    }

    pub fn get(&self, account: &str, region: &str) -> Arc<Pacer> {
        let mut paces = self.paces.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (account.to_string(), region.to_string());
        let make = || {
            let shown = self.shown.with_label_values(&[account, region]);
            shown.set(self.start);
            Arc::new(Pacer { pace: Mutex::new(Pace::new(self.start, Instant::now())), shown })
        };
        paces.entry(key).or_insert_with(make).clone()
    }
}

#[derive(Debug)]
pub struct Pacer {
    pace: Mutex<Pace>,
    shown: Gauge,
}

impl Pacer {
    fn pace(&self) -> std::sync::MutexGuard<'_, Pace> {
        self.pace.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for this call's slot.
    pub async fn slot(&self) {
        let now = Instant::now();
        let at = self.pace().reserve(now);
        if at.duration_since(now) >= SLOW_SLOT {
            tracing::debug!(wait_ms = at.duration_since(now).as_millis(), "waiting for a DataZone slot");
        }
        tokio::time::sleep_until(at.into()).await;
    }

    /// See [`Pace::saturated`].
    pub fn saturated(&self) -> bool {
        self.pace().saturated(Instant::now())
    }

    pub fn answered(&self, refused: bool) {
        let mut pace = self.pace();
        let before = pace.rate();
        pace.answered(Instant::now(), refused);
        if pace.rate() < before {
            tracing::debug!(from = before, to = pace.rate(), "DataZone throttled: pace cut");
        }
        self.shown.set(pace.rate());
    }
}

/// DataZone says "rate exceeded" with 429 (docs/datazone-semantics.md §8); the error type header
/// also names it.
fn refused(status: u16, error_type: Option<&str>) -> bool {
    status == 429 || error_type.is_some_and(|t| t.starts_with("ThrottlingException"))
}

/// An HTTP client whose every request waits for its slot of `pacer` first.
#[derive(Debug)]
pub struct PacedHttpClient {
    inner: SharedHttpClient,
    pacer: Arc<Pacer>,
}

impl PacedHttpClient {
    pub fn shared(inner: SharedHttpClient, pacer: Arc<Pacer>) -> SharedHttpClient {
        SharedHttpClient::new(Self { inner, pacer })
    }
}

impl HttpClient for PacedHttpClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        let inner = self.inner.http_connector(settings, components);
        SharedHttpConnector::new(PacedConnector { inner, pacer: self.pacer.clone() })
    }
}

#[derive(Debug)]
struct PacedConnector {
    inner: SharedHttpConnector,
    pacer: Arc<Pacer>,
}

impl HttpConnector for PacedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let (inner, pacer) = (self.inner.clone(), self.pacer.clone());
        HttpConnectorFuture::new(async move {
            pacer.slot().await;
            let answer = inner.call(request).await;
            if let Ok(response) = &answer {
                let error_type = response.headers().get("x-amzn-errortype");
                pacer.answered(refused(response.status().as_u16(), error_type));
            }
            answer
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn calls_go_evenly_spaced_at_the_rate() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut pace = Pace::new(20.0, t0);
        let slots: Vec<Duration> = (0..4).map(|_| pace.reserve(t0) - t0).collect();
        assert_eq!(slots, [ms(0), ms(50), ms(100), ms(150)]);
        // After a quiet while: at once, but no burst for the time missed.
        let later = t0 + Duration::from_secs(5);
        assert_eq!(pace.reserve(later), later);
        assert_eq!(pace.reserve(later), later + ms(50));
    }

    /// `callers` ask for a slot at `now`, and `answers` of them come back through.
    fn queue_and_answer(pace: &mut Pace, now: Instant, callers: usize, answers: usize) {
        for _ in 0..callers {
            pace.reserve(now);
        }
        for _ in 0..answers {
            pace.answered(now, false);
        }
    }

    #[test]
    fn the_rate_grows_only_while_callers_queue() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut pace = Pace::new(20.0, t0);
        // One call now and then never queues: the rate stays where it is.
        for i in 0..50 {
            let now = t0 + Duration::from_secs(i);
            pace.reserve(now);
            pace.answered(now, false);
        }
        assert_eq!(pace.rate(), 20.0);
        // A queue of a second's worth: before any refusal, half a call a second more per answer.
        let now = t0 + Duration::from_secs(60);
        queue_and_answer(&mut pace, now, 20, 10);
        assert_eq!(pace.rate(), 25.0);
        // A queue of a few calls at once, far below the pace, does not raise it.
        queue_and_answer(&mut pace, now + Duration::from_secs(5), 8, 8);
        assert_eq!(pace.rate(), 25.0, "only a pace in use grows");
    }

    #[test]
    fn a_refusal_cuts_the_rate_once_a_second_to_what_got_through_and_growth_slows() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut pace = Pace::new(100.0, t0);
        // Busy: a hundred calls this second; the first refusal is a plain cut.
        for _ in 0..100 {
            pace.reserve(t0);
        }
        pace.answered(t0, true);
        assert_eq!(pace.rate(), 85.0);
        // Calls that were on their way come back refused too: one cut a second.
        for i in 0..40 {
            pace.answered(t0 + ms(10 * i), true);
        }
        assert_eq!(pace.rate(), 85.0);
        // 59 went through in that second beside 41 refused: the next cut goes to what got through.
        for _ in 0..59 {
            pace.answered(t0 + ms(500), false);
        }
        let grown = pace.rate();
        assert!(grown > 85.0 && grown < 86.2, "additive growth after a cut: {grown}");
        pace.answered(t0 + ms(1000), true);
        assert!((pace.rate() - 59.0 * THROUGH).abs() < 1e-9, "{}", pace.rate());
    }

    #[test]
    fn a_refusal_while_sending_far_below_the_pace_leaves_it() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut pace = Pace::new(20.0, t0);
        // Five calls a second against a pace of twenty: refusals are not about the pace.
        for i in 0..50u64 {
            let now = t0 + ms(200 * i);
            pace.reserve(now);
            pace.answered(now, i % 4 == 0);
        }
        assert_eq!(pace.rate(), 20.0);
    }

    #[test]
    fn the_rate_stays_within_bounds() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut pace = Pace::new(1.5, t0);
        for i in 0..20 {
            let now = t0 + Duration::from_secs(i);
            pace.reserve(now);
            pace.answered(now, true);
        }
        assert_eq!(pace.rate(), SLOWEST);
        assert_eq!(Pace::new(1e9, t0).rate(), FASTEST);
    }

    /// Calls sent for `seconds` seconds from `start`, `per_second` of them evenly in each.
    fn calls(pace: &mut Pace, start: Instant, seconds: u64, per_second: u64) -> Instant {
        let mut now = start;
        for i in 0..seconds * per_second {
            now = start + Duration::from_secs_f64(i as f64 / per_second as f64);
            // Unanswered: the rate stays where it is (answers only move the rate).
            pace.reserve(now);
        }
        now
    }

    #[test]
    fn the_pace_is_saturated_by_tens_of_seconds_at_its_rate_not_by_a_burst() {
        let t0 = Instant::now() + Duration::from_secs(10);
        // A steady state: a third of the pace, with a listing of 200 pages (4 s at the rate).
        let mut pace = Pace::new(50.0, t0);
        let now = calls(&mut pace, t0, 60, 17);
        assert!(!pace.saturated(now), "a third of the pace");
        let now = calls(&mut pace, now, 4, 50);
        assert!(!pace.saturated(now), "a listing of 200 pages is no saturation");
        // A fleet publishing: the pace in use second after second.
        let now = calls(&mut pace, now, 30, 50);
        assert!(pace.saturated(now), "thirty seconds at the rate");
        // The work drains: within a few quiet seconds it is over.
        assert!(!pace.saturated(now + Duration::from_secs(3)), "three quiet seconds");
        // Nothing at all: never saturated.
        assert!(!Pace::new(50.0, t0).saturated(t0 + Duration::from_secs(100)));
    }

    #[test]
    fn refusals_are_429_or_a_throttling_error_type() {
        assert!(refused(429, None));
        assert!(refused(400, Some("ThrottlingException:http://internal.amazon.com/coral/")));
        assert!(!refused(400, Some("ValidationException")));
        assert!(!refused(503, None));
    }

    /// A simulated fleet against a service that refuses beyond 50 calls a second (a token bucket
    /// of 50 like the emulator's): the pacer finds the limit and then uses it, with few refusals.
    #[test]
    fn a_busy_fleet_finds_and_uses_the_limit() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut pace = Pace::new(20.0, t0);
        let (limit, mut tokens, mut last) = (50.0_f64, 50.0_f64, t0);
        let (mut sent, mut refused_calls) = (0u32, 0u32);
        let mut now = t0;
        // Always someone waiting: each call goes at its slot.
        while now < t0 + Duration::from_secs(120) {
            now = pace.reserve(now);
            tokens = (tokens + now.duration_since(last).as_secs_f64() * limit).min(limit);
            last = now;
            let refused = tokens < 1.0;
            if refused {
                refused_calls += 1;
            } else {
                tokens -= 1.0;
                sent += 1;
            }
            pace.answered(now, refused);
        }
        let through = f64::from(sent) / 120.0;
        assert!(through > 0.93 * limit, "{through:.1} calls a second went through of {limit}");
        assert!(f64::from(refused_calls) < 0.03 * f64::from(sent), "{refused_calls} refused of {sent}");
    }
}
