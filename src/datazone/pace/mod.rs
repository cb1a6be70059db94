//! Pacing: DataZone's rate limits apply per account and region, and per API
//! (docs/datazone-semantics.md §8), and a call over them costs a `ThrottlingException` (429), an
//! SDK backoff of up to seconds and a retry. Every data product of a producer cluster calls
//! DataZone in the same governance account, so without pacing a thousand of them find the limit by
//! being refused. A [`Pace`] per (account, region, operation) sends calls at a rate instead, and
//! learns that rate: it grows while callers queue for it and no call is refused (faster at first,
//! until the first refusal), and is cut back on a refusal (additive increase, multiplicative
//! decrease, as TCP finds a link's capacity; several operators sharing one account's quota settle
//! on fair shares the same way). Every attempt goes through it, the SDK's retries included,
//! because it sits in the HTTP connector.
//!
//! The decisions ([`Pace`], [`operations::OperationPaces`]) are pure and take the time as an
//! argument, so they are table-tested and simulated ([`simulation`]); the connector around them
//! ([`connector::PacedHttpClient`]) only sleeps until the slot it was given.

pub mod connector;
pub mod operations;
mod room;
#[cfg(test)]
mod simulation;

use std::time::{Duration, Instant};

/// The slowest pace: a call a second, so even a refusing account is asked now and then.
const SLOWEST: f64 = 1.0;
/// The fastest pace; far above any documented DataZone quota (20 TPS for most of its calls).
const FASTEST: f64 = 1000.0;
/// A refusal cuts the rate to this share of what it was: deep enough that several operators
/// sharing a quota, each cut by its own refusals, are not refused again for a while
/// ([`simulation`]: five share one with under 2 % refused), shallow enough that one alone uses
/// its quota.
const CUT: f64 = 0.8;
/// Refusals closer together than this are one event: calls sent before a cut come back refused
/// after it and must not cut again.
const CUT_SPACING: Duration = Duration::from_secs(1);
/// After a refusal, the rate grows while callers queue by this many calls a second each second:
/// the same step for every operator sharing a quota, whatever its rate, so their rates converge to
/// equal shares (additive increase; a step in proportion to the rate would keep whatever ratio they
/// started at) ...
const STEP: f64 = 0.05;
/// ... until this long has passed without one: then nothing shares the quota any more (a
/// neighbour finished, the quota was raised) and the pace looks for room faster, ...
const QUIET: Duration = Duration::from_secs(30);
/// ... or until no call of any of the account's operations has been refused for this long after
/// one was: plants sharing quotas are each refused every few seconds (2-3 % of some 20 calls a
/// second), so an account this quiet has lost its neighbours, and the pace a plant was cut to is
/// no longer its share. A big plant left alone by small ones that finished climbed back at the
/// step until [`QUIET`] and lost about half a minute of quota (docs/design/fleet.md, "Session 26").
const ACCOUNT_QUIET: Duration = Duration::from_secs(10);
/// ... each call answered while callers queue raising the rate by this share of a call a second,
/// about 5 % a second at any rate: a plant left alone at a fifth of a quota has it all in about
/// half a minute. Against a minute and 2 % a second, averaged over eight simulated runs each
/// ([`simulation`]): five plants of 1,000 done at 1.11 × the bound instead of 1.13 × (2.1 % of the
/// calls refused instead of 1.9 %), one of 4,000 and four of 250 at 1.16 × instead of 1.26 ×;
/// operators started apart no less fair. Shorter (20 s) refused more for little (2.4 %).
const GROWTH: f64 = 0.05;
/// Before any refusal: 50 % a second, to find the limit quickly from a cautious start.
const FIRST_GROWTH: f64 = 0.5;
/// While the account has room ([`room`]: calls moved here from other operations) and this long
/// has passed since the last cut, the pace probes for it ...
const PROBE_AFTER: Duration = Duration::from_secs(3);
/// ... by 3 calls a second each second: from a third of a shared quota of 50 to all of it in about
/// 11 s; slow enough that a probe refused at an operation's own quota of 20 overshoots it by about
/// half (a service's bucket lets a burst through before it refuses); the same for every pace, so a
/// probe does not favour the operator with the most (a share of the rate would) ...
const PROBE_STEP: f64 = 3.0;
/// ... until a refusal, or the room is taken. After a refusal it probes again only this long
/// after: under per-API quotas (DataZone's) each probe is refused at the operation's own quota.
const PROBE_SPACING: Duration = Duration::from_secs(600);
/// After a probe that took the room without a refusal, this long: where one quota serves every
/// operation, each stage of a publish that drains leaves room for the stages after it, and a pace
/// whose probe was spent for ten minutes on the first grew back a step at a time (one operator of
/// 1,000 under one quota of 50: the mean of 24 simulated runs 1.06 × the bound with this, 1.12 ×
/// and the worst 1.36 × without; docs/design/fleet.md) ...
const PROBE_SPACING_TAKEN: Duration = Duration::from_secs(10);
/// ... and each probe after the first goes by this many calls a second each second, not
/// [`PROBE_STEP`]: plants sharing per-API quotas see room whenever their own calls fall (refused
/// and backed off, or a neighbour taking more for a while), mostly a neighbour's share, and
/// probing for it again at 3 a second each second refused 2.93 % and 3.02 % of five plants' calls
/// (`make bench-plants` equal; 2.65 % before, the goal 3 %); at 1, 2.62 %.
const PROBE_STEP_AGAIN: f64 = 1.0;
/// Callers queued within this long ago mean demand is at the pace: only then does it grow.
const QUEUED_RECENTLY: Duration = Duration::from_secs(1);
/// The pace is in use while calls go at at least this share of it; only then does it grow, or is
/// cut on a refusal: one that comes while the operator sends far below its pace is not about its
/// pace (another client of the account, or a service having a moment), and slowing down further
/// would not stop it; the SDK's retry and the data product's backoff deal with those.
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

/// The pace of one operation of one account and region.
#[derive(Clone, Debug)]
pub struct Pace {
    /// Calls a second.
    rate: f64,
    /// When the pace was made, if it started at a documented quota or at a share another pace
    /// learnt ([`Pace::informed`]): it grows from then on as after a cut.
    informed: Option<Instant>,
    /// The earliest time the next call may go.
    next: Instant,
    last_cut: Option<Instant>,
    last_queued: Option<Instant>,
    /// The last growth was a probe for the account's room.
    probing: bool,
    /// When the last probe ended, and how long until the next may start.
    probed: Option<(Instant, Duration)>,
    /// When the current second began, its tally, and the tally of the second before.
    second: (Instant, Tally, Tally),
    /// The share of the rate the last seconds used, smoothed ([`LOAD_WEIGHT`]).
    load: f64,
}

impl Pace {
    pub fn new(rate: f64, now: Instant) -> Self {
        let next = now;
        let second = (now, Tally::default(), Tally::default());
        let rate = rate.clamp(SLOWEST, FASTEST);
        Self {
            rate,
            informed: None,
            next,
            last_cut: None,
            last_queued: None,
            probing: false,
            probed: None,
            second,
            load: 0.0,
        }
    }

    /// A pace that starts at a rate known to be about right, a documented quota or a share another
    /// pace learnt: it grows slowly from the start, as after a cut (a quota can be raised; a guess
    /// to probe from is not a quota), and after [`QUIET`], or once the account is quiet
    /// ([`ACCOUNT_QUIET`]), as any pace does.
    pub fn informed(rate: f64, now: Instant) -> Self {
        Self { informed: Some(now), ..Self::new(rate, now) }
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

    /// Whether this pace started at a guess and a refusal has taught it where its quota is.
    pub fn learnt(&self) -> bool {
        self.last_cut.is_some() && self.informed.is_none()
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

    /// A call came back; `refused` when the service said the rate was exceeded; `room` when the
    /// account's calls through are well below the most lately ([`room::Room::spare`]); `calm`
    /// when none of the account's calls has been refused for [`ACCOUNT_QUIET`] after one was.
    pub fn answered(&mut self, now: Instant, refused: bool, room: bool, calm: bool) {
        let rate = self.rate;
        let (current, last) = self.tallies(now);
        current.answered += 1;
        let busy = f64::from(current.sent.max(last.sent)) >= BUSY_SHARE * rate;
        if refused {
            current.refused += 1;
            if busy && self.last_cut.is_none_or(|at| now.duration_since(at) >= CUT_SPACING) {
                // A cut by a share, not to what got through in the second before: with operators
                // sharing a quota one second's share is noise, and cutting to it sent some to the
                // floor ([`simulation`]).
                self.rate = (self.rate * CUT).max(SLOWEST);
                self.last_cut = Some(now);
                if std::mem::take(&mut self.probing) {
                    self.probed = Some((now, PROBE_SPACING));
                }
            }
            return;
        }
        // Grown only while it is used: a pace far above what is sent says nothing about the
        // service, and would let a burst through all at once.
        let queued = self.last_queued.is_some_and(|at| now.duration_since(at) < QUEUED_RECENTLY);
        if queued && busy {
            // A pace that started informed probes as one cut when it was made.
            let calm_since = self.last_cut.or(self.informed);
            let probing = room
                && calm_since.is_some_and(|at| now.duration_since(at) >= PROBE_AFTER)
                && self.probed.is_none_or(|(at, spacing)| now.duration_since(at) >= spacing);
            if self.probing && !probing {
                self.probed = Some((now, PROBE_SPACING_TAKEN));
            }
            self.probing = probing;
            // Per answered call: a second's calls add up to the step.
            let growth = match calm_since {
                None => FIRST_GROWTH,
                Some(_) if self.probing && self.probed.is_some() => PROBE_STEP_AGAIN / self.rate,
                Some(_) if self.probing => PROBE_STEP / self.rate,
                Some(at) if now.duration_since(at) < QUIET && !calm => STEP / self.rate,
                Some(_) => GROWTH,
            };
            self.rate = (self.rate + growth).min(FASTEST);
        }
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
        queue_and_answer_in(pace, now, callers, answers, false);
    }

    /// The same, with room or not ([`room::Room::spare`]).
    fn queue_and_answer_in(pace: &mut Pace, now: Instant, callers: usize, answers: usize, room: bool) {
        for _ in 0..callers {
            pace.reserve(now);
        }
        for _ in 0..answers {
            pace.answered(now, false, room, false);
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
            pace.answered(now, false, false, false);
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
    fn a_refusal_cuts_the_rate_once_a_second_and_growth_after_it_is_a_fixed_step() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut pace = Pace::new(100.0, t0);
        // Busy: a hundred calls this second; a refusal cuts.
        for _ in 0..100 {
            pace.reserve(t0);
        }
        pace.answered(t0, true, false, false);
        assert_eq!(pace.rate(), 100.0 * CUT);
        // Calls that were on their way come back refused too: one cut a second.
        for i in 0..40 {
            pace.answered(t0 + ms(10 * i), true, false, false);
        }
        assert_eq!(pace.rate(), 100.0 * CUT);
        assert_eq!(CUT, 0.8, "a second's worth below is 80 calls");
        // A second's worth of calls answered while callers queue: the rate grows by the step,
        // about, whatever it is (each call adds its share of the step at the rate it finds).
        for _ in 0..80 {
            pace.reserve(t0 + ms(500));
            pace.answered(t0 + ms(500), false, false, false);
        }
        let grown = pace.rate() - 100.0 * CUT;
        assert!((grown - STEP).abs() < 1e-3, "additive growth after a cut: {grown}");
        // The next refusal, a second later: cut again.
        let before = pace.rate();
        pace.answered(t0 + ms(1000), true, false, false);
        assert!((pace.rate() - before * CUT).abs() < 1e-9, "{}", pace.rate());
        // Half a minute without a refusal: the step is a share of the rate again (5 % a second).
        let quiet = t0 + ms(1000) + QUIET + ms(1);
        let before = pace.rate();
        queue_and_answer(&mut pace, quiet, 50, 50);
        assert!((pace.rate() - before - 50.0 * GROWTH).abs() < 1e-9, "{}", pace.rate());
    }

    /// `callers` ask for a slot at `now`, and `answers` of them come back through, with room.
    fn queue_and_answer_with_room(pace: &mut Pace, now: Instant, callers: usize, answers: usize) {
        queue_and_answer_in(pace, now, callers, answers, true);
    }

    #[test]
    fn with_room_a_pace_cut_a_while_ago_probes_three_calls_a_second_faster_each_second_until_refused_then_not_for_ten_minutes()
     {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut pace = Pace::new(20.0, t0);
        queue_and_answer(&mut pace, t0, 20, 0);
        pace.answered(t0, true, true, false);
        assert_eq!(pace.rate(), 16.0);
        // Within three seconds of the cut: the step, room or not.
        queue_and_answer_with_room(&mut pace, t0 + ms(2000), 16, 16);
        assert!((pace.rate() - 16.0 - STEP).abs() < 1e-3, "{}", pace.rate());
        // Later, with room: a second's worth of answers adds the probe's step.
        let later = t0 + ms(4000);
        let before = pace.rate();
        queue_and_answer_with_room(&mut pace, later, 20, 16);
        assert!((pace.rate() - before - PROBE_STEP).abs() < 0.3, "{}", pace.rate());
        // A refusal ends the probe, and none starts again for ten minutes, room or not.
        let refused_at = later + ms(600);
        queue_and_answer_with_room(&mut pace, refused_at, 20, 10);
        pace.answered(refused_at, true, true, false);
        let before = pace.rate();
        queue_and_answer_with_room(&mut pace, refused_at + PROBE_AFTER + ms(100), 20, 16);
        assert!((pace.rate() - before - STEP).abs() < 1e-2, "the step: {}", pace.rate());
        let after = refused_at + PROBE_SPACING + ms(100);
        let before = pace.rate();
        queue_and_answer_with_room(&mut pace, after, 20, 16);
        assert!((pace.rate() - before - PROBE_STEP_AGAIN).abs() < 0.1, "probing again: {}", pace.rate());
    }

    #[test]
    fn a_probe_that_took_the_room_probes_again_ten_seconds_later_by_a_call_a_second_each_second() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut pace = Pace::new(20.0, t0);
        queue_and_answer(&mut pace, t0, 20, 0);
        pace.answered(t0, true, false, false);
        // A stage drained: room, and the pace probes ...
        let probe = t0 + ms(4000);
        let before = pace.rate();
        queue_and_answer_with_room(&mut pace, probe, 20, 16);
        assert!((pace.rate() - before - PROBE_STEP).abs() < 0.3, "probing: {}", pace.rate());
        // ... until the room is taken, without a refusal.
        queue_and_answer(&mut pace, probe + ms(500), 20, 1);
        // Room again five seconds later: the step.
        let before = pace.rate();
        queue_and_answer_with_room(&mut pace, probe + ms(5500), 20, 19);
        assert!((pace.rate() - before - STEP).abs() < 1e-2, "the step: {}", pace.rate());
        // Ten seconds later: a probe again, by a call a second each second.
        let before = pace.rate();
        queue_and_answer_with_room(&mut pace, probe + ms(11_000), 20, 19);
        assert!((pace.rate() - before - PROBE_STEP_AGAIN).abs() < 0.1, "probing again: {}", pace.rate());
    }

    #[test]
    fn a_refusal_while_sending_far_below_the_pace_leaves_it() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut pace = Pace::new(20.0, t0);
        // Five calls a second against a pace of twenty: refusals are not about the pace.
        for i in 0..50u64 {
            let now = t0 + ms(200 * i);
            pace.reserve(now);
            pace.answered(now, i % 4 == 0, false, false);
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
            pace.answered(now, true, false, false);
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
            pace.answered(now, refused, false, false);
        }
        let through = f64::from(sent) / 120.0;
        assert!(through > 0.93 * limit, "{through:.1} calls a second went through of {limit}");
        assert!(f64::from(refused_calls) < 0.03 * f64::from(sent), "{refused_calls} refused of {sent}");
    }
}
