//! The paces against a simulated service, in simulated time: one or several operators (each its
//! own [`OperationPaces`], as plants in separate clusters are) calling operations that always
//! have a caller waiting, against token buckets like DataZone's (one per operation) or like the
//! emulator's `--rate-limit` (one for every operation). What each test asserts is what a fleet
//! would notice: how much of the quota it uses, how many calls are refused, and how fairly
//! operators sharing a quota share it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

use super::operations::OperationPaces;

mod fleets;

/// Token buckets whose burst is their rate, as the emulator's.
struct Service {
    /// One bucket for every operation, or one per operation.
    shared: bool,
    rates: HashMap<&'static str, f64>,
    /// (tokens, last refill) by operation ("" when shared).
    buckets: HashMap<&'static str, (f64, Instant)>,
}

impl Service {
    fn per_api(rates: &[(&'static str, f64)]) -> Self {
        Self { shared: false, rates: rates.iter().copied().collect(), buckets: HashMap::new() }
    }

    fn shared(rate: f64) -> Self {
        Self { shared: true, rates: [("", rate)].into(), buckets: HashMap::new() }
    }

    /// Whether a call of `operation` at `now` is refused.
    fn refuses(&mut self, operation: &'static str, now: Instant) -> bool {
        let key = if self.shared { "" } else { operation };
        let rate = self.rates[key];
        let (tokens, last) = self.buckets.entry(key).or_insert((rate, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate).min(rate);
        *last = now;
        if *tokens < 1.0 {
            return true;
        }
        *tokens -= 1.0;
        false
    }
}

/// What one operator got: calls through and refused, by operation, from `measured_from` on; and
/// the calls through in each second from the start.
#[derive(Default)]
struct Got {
    through: HashMap<&'static str, u32>,
    refused: u32,
    each_second: Vec<u32>,
}

impl Got {
    fn total(&self) -> u32 {
        self.through.values().sum()
    }

    /// Calls through a second, on average, from second `from` to second `until`.
    fn through_between(&self, from: u64, until: u64) -> f64 {
        let calls: u32 = self.each_second.iter().skip(from as usize).take((until - from) as usize).sum();
        f64::from(calls) / (until - from) as f64
    }
}

/// A call's way to the service or back: 5 to 45 ms, varying from call to call (a fixed sequence,
/// so every run is the same).
struct Latency(u64);

impl Latency {
    fn next(&mut self) -> Duration {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        Duration::from_millis(5 + (self.0 >> 33) % 41)
    }
}

/// An operation with `callers` always waiting, from `from` until `until` seconds after its
/// operator starts (a fleet's calls move from one operation to the next as it publishes). A
/// caller has one call on its way at a time: one alone sends about 20 a second (its round trip).
#[derive(Clone, Copy)]
struct Demand {
    operation: &'static str,
    callers: usize,
    from: u64,
    until: u64,
}

/// `operators` callers of `operations` each, for the whole run, with the latencies of `seed` (see
/// [`simulate_demands`]).
fn simulate(
    service: &mut Service,
    operators: usize,
    operations: &[&'static str],
    stagger: Duration,
    seconds: u64,
    measured_from: Duration,
    seed: u64,
) -> Vec<Got> {
    let demands: Vec<Demand> =
        operations.iter().map(|&operation| Demand { operation, callers: 1, from: 0, until: seconds }).collect();
    simulate_demands(service, operators, &demands, stagger, seconds, measured_from, seed)
}

/// `operators` callers of the `demands` each (the first starting at t0, each next `stagger`
/// later), for `seconds`; counted from `measured_from`; with the latencies of `seed` (each seed
/// another run).
fn simulate_demands(
    service: &mut Service,
    operators: usize,
    demands: &[Demand],
    stagger: Duration,
    seconds: u64,
    measured_from: Duration,
    seed: u64,
) -> Vec<Got> {
    let t0 = Instant::now() + Duration::from_secs(10);
    let end = t0 + Duration::from_secs(seconds);
    let mut paces: Vec<OperationPaces> = (0..operators).map(|_| OperationPaces::new(20.0)).collect();
    let mut got: Vec<Got> = (0..operators).map(|_| Got::default()).collect();
    let mut latency = Latency(7 + 1000 * seed);
    // (when, answered: false when it reaches the service, operator, demand, refused)
    let mut due = BinaryHeap::new();
    let start = |o: usize| t0 + stagger * o as u32;
    for (o, pace) in paces.iter_mut().enumerate() {
        for (i, d) in demands.iter().enumerate() {
            let from = start(o) + Duration::from_secs(d.from);
            for _ in 0..d.callers {
                due.push(Reverse((pace.reserve(d.operation, from) + latency.next(), false, o, i, false)));
            }
        }
    }
    while let Some(Reverse((at, answered, o, i, refused))) = due.pop() {
        if at >= end {
            break;
        }
        let op = demands[i].operation;
        if !answered {
            let refused = service.refuses(op, at);
            due.push(Reverse((at + latency.next(), true, o, i, refused)));
            continue;
        }
        paces[o].answered(op, at, refused);
        if !refused {
            let second = at.duration_since(t0).as_secs() as usize;
            let each = &mut got[o].each_second;
            each.resize(each.len().max(second + 1), 0);
            each[second] += 1;
        }
        if at >= t0 + measured_from {
            if refused {
                got[o].refused += 1;
            } else {
                *got[o].through.entry(op).or_default() += 1;
            }
        }
        // The next caller was waiting already, while there is one.
        if at < start(o) + Duration::from_secs(demands[i].until) {
            due.push(Reverse((paces[o].reserve(op, at) + latency.next(), false, o, i, false)));
        }
    }
    got
}

/// Jain's fairness index: 1 when all got the same, 1/n when one got everything.
fn jain(xs: &[f64]) -> f64 {
    let sum: f64 = xs.iter().sum();
    let squares: f64 = xs.iter().map(|x| x * x).sum();
    sum * sum / (xs.len() as f64 * squares)
}

const DATA_SOURCE_CALLS: [&str; 4] = ["GetDataSource", "CreateDataSource", "StartDataSourceRun", "ListDataSources"];

#[test]
fn one_operator_uses_a_quota_shared_by_every_operation() {
    let mut service = Service::shared(50.0);
    let got = simulate(&mut service, 1, &DATA_SOURCE_CALLS, Duration::ZERO, 120, Duration::ZERO, 0);
    let (through, refused) = (f64::from(got[0].total()) / 120.0, got[0].refused);
    eprintln!("{through:.1} a second of 50, {refused} refused of {}", got[0].total());
    assert!(through > 0.93 * 50.0, "{through:.1} calls a second of 50");
    assert!(f64::from(refused) < 0.03 * f64::from(got[0].total()), "{refused} refused of {}", got[0].total());
}

/// One operator whose calls move from some operations to others as it publishes (its data sources
/// made, their runs started, then its data products made). Under a quota shared by every
/// operation (the emulator's `--rate-limit`), the operations called next take up the whole quota
/// within seconds, not only the share their paces held while the others were busy; under
/// per-API quotas each uses its own, and a move costs few refusals.
#[test]
fn one_operator_whose_calls_move_to_other_operations_keeps_using_the_quota() {
    let demands = [
        Demand { operation: "CreateDataSource", callers: 8, from: 0, until: 100 },
        Demand { operation: "GetDataSource", callers: 8, from: 0, until: 100 },
        Demand { operation: "StartDataSourceRun", callers: 8, from: 20, until: 200 },
        Demand { operation: "CreateDataProduct", callers: 8, from: 150, until: 300 },
    ];
    let mut shared = Service::shared(50.0);
    let got = simulate_demands(&mut shared, 1, &demands, Duration::ZERO, 300, Duration::ZERO, 0);
    let (runs, products) = (got[0].through_between(110, 150), got[0].through_between(160, 200));
    let (alone, total) = (got[0].through_between(210, 300), got[0].total());
    eprintln!(
        "shared 50: {runs:.1} a second of runs alone, {products:.1} with data products, {alone:.1} data products alone; {} refused of {total}",
        got[0].refused
    );
    // The runs alone take 44 of 50 a second over the 40 s after the data sources are all made
    // (46.5 while the account's most faded by 0.1 % a second instead of 2 %: their probe for the
    // room stopped later; `room::BEST_FADE` says what the faster fade is for).
    for (what, through) in [("runs alone", runs), ("runs and data products", products), ("data products alone", alone)]
    {
        assert!(through > 0.85 * 50.0, "{what}: {through:.1} calls a second of 50");
    }
    assert!(f64::from(got[0].refused) < 0.03 * f64::from(total), "{} refused of {total}", got[0].refused);

    let quotas: Vec<(&'static str, f64)> = demands.iter().map(|d| (d.operation, 20.0)).collect();
    let mut per_api = Service::per_api(&quotas);
    let got = simulate_demands(&mut per_api, 1, &demands, Duration::ZERO, 300, Duration::ZERO, 0);
    let (runs, products, total) = (got[0].through_between(110, 150), got[0].through_between(160, 200), got[0].total());
    eprintln!(
        "per-API 20: {runs:.1} a second of runs alone, {products:.1} with data products; {} refused of {total}",
        got[0].refused
    );
    assert!(runs > 0.85 * 20.0, "runs alone: {runs:.1} of 20");
    assert!(products > 0.9 * 40.0, "runs and data products: {products:.1} of 40");
    assert!(f64::from(got[0].refused) < 0.03 * f64::from(total), "{} refused of {total}", got[0].refused);
}

#[test]
fn one_operator_uses_each_operations_own_quota_and_a_slow_one_stalls_no_other() {
    let quotas = [
        ("AcceptSubscriptionRequest", 3.0),
        ("GetDataSource", 20.0),
        ("CreateDataSource", 20.0),
        ("StartDataSourceRun", 20.0),
        ("ListDataSources", 20.0),
    ];
    let mut service = Service::per_api(&quotas);
    let operations: Vec<&'static str> = quotas.iter().map(|(op, _)| *op).collect();
    let got = simulate(&mut service, 1, &operations, Duration::ZERO, 120, Duration::ZERO, 0);
    for (op, quota) in quotas {
        let through = f64::from(got[0].through[op]) / 120.0;
        assert!(through > 0.9 * quota, "{op}: {through:.1} a second of {quota}");
    }
    assert!(f64::from(got[0].refused) < 0.03 * f64::from(got[0].total()), "{} refused", got[0].refused);
}

/// Operators that start together (after an outage, every plant's operator restarts at once)
/// sharing per-API quotas: each gets about its share, they use the quotas, and few calls are
/// refused. (Started some seconds apart, the first sometimes keeps more than its share: with two,
/// up to four and a half times the other's; see docs/datazone-semantics.md §8.)
/// Three operations of 20 a second each, shared by `operators` that start `stagger` apart: each
/// one's calls a second that got through (once the last has run 100 s), their sum, and the share of
/// the calls refused; printed.
fn sharing(operators: usize, stagger: u64) -> (Vec<f64>, f64, f64) {
    sharing_seeded(operators, stagger, 0)
}

fn sharing_seeded(operators: usize, stagger: u64, seed: u64) -> (Vec<f64>, f64, f64) {
    let quotas = [("GetDataSource", 20.0), ("CreateDataSource", 20.0), ("StartDataSourceRun", 20.0)];
    let operations: Vec<&'static str> = quotas.iter().map(|(op, _)| *op).collect();
    let mut service = Service::per_api(&quotas);
    let seconds = 400;
    let from = Duration::from_secs(100 + stagger * operators as u64);
    let got = simulate(&mut service, operators, &operations, Duration::from_secs(stagger), seconds, from, seed);
    let measured = (seconds - from.as_secs()) as f64;
    let shares: Vec<f64> = got.iter().map(|g| f64::from(g.total()) / measured).collect();
    let total: f64 = shares.iter().sum();
    let refused: u32 = got.iter().map(|g| g.refused).sum();
    let refused_share = f64::from(refused) / (total * measured);
    eprintln!(
        "{operators} operators {stagger} s apart: {shares:.1?} calls a second, {total:.1} of 60, Jain {:.3}, {:.2} % refused",
        jain(&shares),
        refused_share * 100.0
    );
    (shares, total, refused_share)
}

#[test]
fn operators_started_together_share_per_api_quotas_fairly_and_use_them() {
    // Ten operators at 6 a second each are refused 6.04 % (just under 6 % before a quiet account let a
    // pace grow as if alone, docs/design/fleet.md "Session 26"): each operator sees its own
    // refusals only, and ten seconds without one happen at that share now and then.
    for (operators, refused_at_most) in [(2, 0.01), (5, 0.02), (10, 0.065)] {
        let (shares, total, refused) = sharing(operators, 0);
        assert!(total > 0.95 * 60.0, "{operators}: {total:.1} calls a second of 60");
        assert!(jain(&shares) >= 0.95, "{operators}: Jain's index {:.3}: {shares:?}", jain(&shares));
        assert!(refused < refused_at_most, "{operators}: {:.1} % refused", refused * 100.0);
    }
}

/// Operators started some seconds apart (plants restarted one by one): the quotas are still used,
/// but the first may keep more than its share and the others are refused more (printed, and only
/// bounded here: a weakness of learning from refusals against a token bucket that this pacing has
/// not overcome; spacing calls at random around the interval halved the worst case's refusals
/// but made other cases less fair, so it was left out; docs/datazone-semantics.md §8).
#[test]
fn operators_started_apart_still_use_the_quotas() {
    for stagger in [5, 10, 30] {
        for operators in [2, 5] {
            let (_, total, refused) = sharing(operators, stagger);
            assert!(total > 0.95 * 60.0, "{total:.1} calls a second of 60");
            assert!(refused < 0.2, "{:.1} % refused", refused * 100.0);
        }
    }
}

#[test]
fn jains_index_is_one_for_equal_shares_and_one_over_n_for_one_taking_all() {
    assert!((jain(&[2.0, 2.0, 2.0]) - 1.0).abs() < 1e-12);
    assert!((jain(&[6.0, 0.0, 0.0]) - 1.0 / 3.0).abs() < 1e-12);
}

/// Not a test: operators sharing per-API quotas, started together and apart, each figure over eight
/// runs (see `fleets::figures_over_eight_runs`).
#[test]
#[ignore]
fn sharing_figures_over_eight_runs() {
    let mut lines = Vec::new();
    for stagger in [0, 5, 10, 30] {
        for operators in [2, 5] {
            let (mut jains, mut refusals) = (Vec::new(), Vec::new());
            for seed in 0..8 {
                let (shares, _, refused) = sharing_seeded(operators, stagger, seed);
                jains.push(jain(&shares));
                refusals.push(refused);
            }
            let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
            let min = jains.iter().copied().fold(1.0, f64::min);
            lines.push(format!(
                "{operators} operators {stagger} s apart: Jain mean {:.3} min {min:.3}; refused mean {:.2} %",
                mean(&jains),
                mean(&refusals) * 100.0
            ));
        }
    }
    for l in lines {
        eprintln!("{l}");
    }
}
