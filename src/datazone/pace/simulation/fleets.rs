//! Plants publishing fleets of a fixed size, as `make bench-plants` runs them, in simulated time:
//! each operator's data products go through the calls of a first publish one stage after the other
//! (a data source made, its run started, its activities listed, its DataZone data product made and
//! listed), each stage a DataZone operation with its own quota, with `--concurrency` places shared
//! by the stages (a free place to the stage with the fewest under way, as `fleet::gate` gives it
//! while a pace is saturated), and the SDK's retries of a refused call (three attempts) holding
//! the place. What a plant would notice: the time until all are Ready against the tightest quota's
//! bound, the calls refused, and when each plant is done.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use super::{Latency, Service};
use crate::datazone::pace::operations::OperationPaces;

/// The calls of a first publish, in order, and how long after each the next may follow (the
/// data source settling and its run of a second, each seen a poll interval later).
const STAGES: [(&str, Duration); 5] = [
    ("CreateDataSource", Duration::from_millis(2500)),
    ("StartDataSourceRun", Duration::from_millis(2500)),
    ("ListDataSourceRunActivities", Duration::ZERO),
    ("CreateDataProduct", Duration::ZERO),
    ("CreateListingChangeSet", Duration::ZERO),
];
/// Every operation's quota, as the emulator's `--per-api-quotas` has it for these.
const QUOTA: f64 = 20.0;
const PLACES: usize = 16;
/// The SDK's standard retry: three attempts, waiting up to a second, then two, before the next.
const ATTEMPTS: u32 = 3;

/// What happened to one plant.
#[derive(Clone, Debug, Default)]
pub struct Plant {
    pub done_at: Option<Duration>,
    pub through: u32,
    pub refused: u32,
    /// Refused calls in each 10 s from the start, and calls through.
    pub refused_each_10s: Vec<u32>,
    pub through_each_10s: Vec<u32>,
}

/// How an operator paces its calls: as the operator does, or at a fixed rate for every operation
/// (a plant given exactly its share from the first second: the floor of what pacing can do).
enum Pacing {
    Learnt(OperationPaces),
    Fixed { rate: f64, next: [Option<Instant>; STAGES.len()] },
}

impl Pacing {
    fn reserve(&mut self, stage: usize, now: Instant) -> Instant {
        match self {
            Pacing::Learnt(paces) => paces.reserve(STAGES[stage].0, now),
            Pacing::Fixed { rate, next } => {
                let at = next[stage].map_or(now, |n| n.max(now));
                next[stage] = Some(at + Duration::from_secs_f64(1.0 / *rate));
                at
            }
        }
    }

    fn answered(&mut self, stage: usize, now: Instant, refused: bool) {
        if let Pacing::Learnt(paces) = self {
            paces.answered(STAGES[stage].0, now, refused);
        }
    }
}

struct Operator {
    paces: Pacing,
    /// Data products ready for each stage, and passes under way at each.
    waiting: [u32; STAGES.len()],
    running: [u32; STAGES.len()],
    left: u32,
    got: Plant,
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// A data product is ready for `stage`.
    Ready { stage: usize },
    /// Attempt `attempt` of a call of `stage` reaches the service.
    Sent { stage: usize, attempt: u32 },
    /// It comes back.
    Answered { stage: usize, attempt: u32, refused: bool },
}

/// Plants of `sizes` data products, started together at t0, sharing per-API quotas of 20.
pub fn publish(sizes: &[u32], seconds: u64) -> Vec<Plant> {
    let quotas: Vec<(&'static str, f64)> = STAGES.iter().map(|(op, _)| (*op, QUOTA)).collect();
    publish_to(Service::per_api(&quotas), sizes, seconds)
}

/// The same against `service`.
fn publish_to(service: Service, sizes: &[u32], seconds: u64) -> Vec<Plant> {
    publish_seeded(service, sizes, seconds, 0)
}

/// The same with the latencies and the SDK's backoffs of `seed` (each seed another run).
fn publish_seeded(service: Service, sizes: &[u32], seconds: u64, seed: u64) -> Vec<Plant> {
    publish_paced(service, sizes, seconds, seed, None)
}

/// The same, each operator's calls at `fixed` calls a second for every operation when given.
fn publish_paced(mut service: Service, sizes: &[u32], seconds: u64, seed: u64, fixed: Option<f64>) -> Vec<Plant> {
    let t0 = Instant::now() + Duration::from_secs(10);
    let end = t0 + Duration::from_secs(seconds);
    let mut latency = Latency(7 + 1000 * seed);
    let mut jitter = Latency(11 + 1000 * seed);
    let mut operators: Vec<Operator> = sizes
        .iter()
        .map(|&n| Operator {
            paces: match fixed {
                Some(rate) => Pacing::Fixed { rate, next: [None; STAGES.len()] },
                None => Pacing::Learnt(OperationPaces::new(20.0)),
            },
            waiting: [n, 0, 0, 0, 0],
            running: [0; STAGES.len()],
            left: n,
            got: Plant::default(),
        })
        .collect();
    let mut due: BinaryHeap<Reverse<(Instant, usize, Event)>> = BinaryHeap::new();
    for (o, op) in operators.iter_mut().enumerate() {
        dispatch(op, o, t0, &mut due, &mut latency);
    }
    while let Some(Reverse((at, o, event))) = due.pop() {
        if at >= end {
            break;
        }
        let op = &mut operators[o];
        match event {
            Event::Ready { stage } => op.waiting[stage] += 1,
            Event::Sent { stage, attempt } => {
                let refused = service.refuses(STAGES[stage].0, at);
                due.push(Reverse((at + latency.next(), o, Event::Answered { stage, attempt, refused })));
                continue;
            }
            Event::Answered { stage, attempt, refused } => {
                let settles = STAGES[stage].1;
                op.paces.answered(stage, at, refused);
                if refused {
                    op.got.refused += 1;
                    count_in_its_10s(&mut op.got.refused_each_10s, at.duration_since(t0));
                    if attempt < ATTEMPTS {
                        // The SDK's backoff: up to a second, then two, at random.
                        let most = 1000 * (1 << (attempt - 1));
                        let backoff = Duration::from_millis(jitter.next().as_millis() as u64 * most / 45);
                        let slot = op.paces.reserve(stage, at + backoff);
                        let next = Event::Sent { stage, attempt: attempt + 1 };
                        due.push(Reverse((slot + latency.next(), o, next)));
                        continue;
                    }
                    // Given up: the pass fails and the data product comes back after a backoff.
                    op.running[stage] -= 1;
                    due.push(Reverse((at + Duration::from_secs(2), o, Event::Ready { stage })));
                } else {
                    op.got.through += 1;
                    count_in_its_10s(&mut op.got.through_each_10s, at.duration_since(t0));
                    op.running[stage] -= 1;
                    if stage + 1 < STAGES.len() {
                        due.push(Reverse((at + settles, o, Event::Ready { stage: stage + 1 })));
                    } else {
                        op.left -= 1;
                        if op.left == 0 {
                            op.got.done_at = Some(at.duration_since(t0));
                        }
                    }
                }
            }
        }
        dispatch(&mut operators[o], o, at, &mut due, &mut latency);
    }
    operators.into_iter().map(|o| o.got).collect()
}

/// One more in the 10 s that `since_start` falls in.
fn count_in_its_10s(each: &mut Vec<u32>, since_start: Duration) {
    let bucket = (since_start.as_secs() / 10) as usize;
    each.resize(each.len().max(bucket + 1), 0);
    each[bucket] += 1;
}

/// Free places go to the stage with the fewest passes under way, the furthest along among equals.
fn dispatch(
    op: &mut Operator,
    o: usize,
    now: Instant,
    due: &mut BinaryHeap<Reverse<(Instant, usize, Event)>>,
    latency: &mut Latency,
) {
    loop {
        let under_way: u32 = op.running.iter().sum();
        if under_way as usize >= PLACES {
            return;
        }
        let next = (0..STAGES.len()).filter(|s| op.waiting[*s] > 0).min_by_key(|s| (op.running[*s], Reverse(*s)));
        let Some(stage) = next else { return };
        op.waiting[stage] -= 1;
        op.running[stage] += 1;
        let slot = op.paces.reserve(stage, now);
        due.push(Reverse((slot + latency.next(), o, Event::Sent { stage, attempt: 1 })));
    }
}

/// The bound of the tightest quota: every operation is called once a data product.
fn bound(sizes: &[u32]) -> f64 {
    f64::from(sizes.iter().sum::<u32>()) / QUOTA
}

fn report(what: &str, sizes: &[u32], plants: &[Plant]) -> (f64, f64) {
    let done: Vec<f64> = plants.iter().map(|p| p.done_at.map_or(f64::INFINITY, |d| d.as_secs_f64())).collect();
    let all = done.iter().copied().fold(0.0, f64::max);
    let through: u32 = plants.iter().map(|p| p.through).sum();
    let refused: u32 = plants.iter().map(|p| p.refused).sum();
    let share = f64::from(refused) / f64::from(through + refused);
    let ratio = all / bound(sizes);
    let mut each: Vec<u32> = Vec::new();
    for p in plants {
        each.resize(each.len().max(p.refused_each_10s.len()), 0);
        for (i, n) in p.refused_each_10s.iter().enumerate() {
            each[i] += n;
        }
    }
    eprintln!("{what}: refused each 10 s: {each:?}");
    eprintln!(
        "{what}: all done at {all:.1} s, {ratio:.2} x the bound of {:.1} s; plants done at {done:.1?}; {:.2} % refused",
        bound(sizes),
        share * 100.0
    );
    (ratio, share)
}

#[test]
fn five_plants_of_a_thousand_publish_near_the_tightest_quotas_bound() {
    let sizes = [1000; 5];
    let plants = publish(&sizes, 1000);
    let (ratio, refused) = report("five plants of 1,000", &sizes, &plants);
    // 1.06 x; 1.11 x on average over eight runs (`figures_over_eight_runs`).
    assert!(ratio < 1.15, "all done at {ratio:.2} x the bound");
    assert!(refused < 0.03, "{:.1} % refused", refused * 100.0);
}

#[test]
fn one_plant_of_four_thousand_leaves_four_of_250_their_share() {
    let sizes = [4000, 250, 250, 250, 250];
    let plants = publish(&sizes, 2000);
    let (ratio, refused) = report("4,000 and four of 250", &sizes, &plants);
    // A small plant's own bound: its calls at a fifth of each quota.
    let own: Vec<f64> = plants[1..].iter().map(|p| p.done_at.unwrap().as_secs_f64() / (250.0 * 5.0 / QUOTA)).collect();
    eprintln!("the small plants, each against its own share's bound: {own:.2?}");
    eprintln!("the big plant's calls through, each 10 s: {:?}", plants[0].through_each_10s);
    assert!(ratio < 1.2, "all done at {ratio:.2} x the bound");
    // The goal is 1.0 (issue: "the small plants done no later than the bound of their own
    // share"); not met: 0.96-1.18 here, 1.09 on average over eight runs, the worst 1.29
    // (docs/design/fleet.md).
    assert!(own.iter().all(|r| *r < 1.3), "the small plants: {own:.2?}");
    assert!(refused < 0.03, "{:.1} % refused", refused * 100.0);
}

/// The goal for the unequal run is each small plant done within its own share's bound,
/// 62.5 s for 250; what a plant given exactly its share from the first second (a fifth of each
/// quota, never refused) takes instead: the bound plus the last data product's way through the
/// stages after its data source was made (its data source and its run settling, and three more
/// calls at 4 a second each). No fair pacing does better; only more than a fifth would.
#[test]
fn a_small_plant_given_exactly_its_share_is_done_a_few_seconds_after_its_own_bound() {
    let sizes = [4000, 250, 250, 250, 250];
    let quotas: Vec<(&'static str, f64)> = STAGES.iter().map(|(op, _)| (*op, QUOTA)).collect();
    let plants = publish_paced(Service::per_api(&quotas), &sizes, 2000, 0, Some(QUOTA / 5.0));
    let own_bound = 250.0 * 5.0 / QUOTA;
    let own: Vec<f64> = plants[1..].iter().map(|p| p.done_at.unwrap().as_secs_f64() / own_bound).collect();
    eprintln!("the small plants at exactly their share, against their own bound of {own_bound} s: {own:.3?}");
    assert!(plants.iter().all(|p| p.refused == 0), "a fifth of each quota is never refused");
    assert!(own.iter().all(|r| *r > 1.0 && *r < 1.15), "{own:.3?}");
}

/// One operator under one quota of 50 a second for every operation (the emulator's
/// `--rate-limit`, `make bench`): its calls move from stage to stage, and each stage's pace
/// must take the quota the others leave.
#[test]
fn one_operator_of_a_thousand_under_one_shared_quota_keeps_it_busy() {
    let plants = publish_to(Service::shared(50.0), &[1000], 1000);
    let done = plants[0].done_at.unwrap().as_secs_f64();
    let refused = f64::from(plants[0].refused) / f64::from(plants[0].through + plants[0].refused);
    let ratio = done / (5000.0 / 50.0);
    eprintln!(
        "one operator of 1,000, one quota of 50: done at {done:.1} s, {ratio:.2} x the bound of 100 s; {:.2} % refused; through each 10 s: {:?}",
        refused * 100.0,
        plants[0].through_each_10s
    );
    // 1.07 x (1.44 x while the account's most calls through was of a second's, not five's: the
    // paces' probes for room were spent in the first seconds, and when the data sources were all
    // made the later stages' paces grew back by the step; `room.rs`). `make bench`: 1.13 x, from
    // 1.20 x (docs/design/fleet.md).
    assert!(ratio < 1.15, "{ratio:.2} x the bound");
    assert!(refused < 0.03, "{:.1} % refused", refused * 100.0);
}

/// Not a test: the figures the pace's constants are chosen by (docs/design/fleet.md), each the mean
/// and worst of eight runs with other latencies and backoffs, as one run's can mislead. Run with
/// `cargo test --lib pace::simulation -- --ignored --nocapture`.
#[test]
#[ignore]
fn figures_over_eight_runs() {
    let quotas: Vec<(&'static str, f64)> = STAGES.iter().map(|(op, _)| (*op, QUOTA)).collect();
    let seeds = 0..8u64;
    let mut lines = Vec::new();
    for (what, sizes, shared) in [
        ("equal", vec![1000u32; 5], false),
        ("unequal", vec![4000, 250, 250, 250, 250], false),
        ("single shared", vec![1000], true),
    ] {
        let (mut ratios, mut refusals, mut smalls) = (Vec::new(), Vec::new(), Vec::new());
        for seed in seeds.clone() {
            let service = if shared { Service::shared(50.0) } else { Service::per_api(&quotas) };
            let plants = publish_seeded(service, &sizes, 2000, seed);
            let all = plants.iter().map(|p| p.done_at.map_or(f64::INFINITY, |d| d.as_secs_f64())).fold(0.0, f64::max);
            let bound = if shared { 100.0 } else { bound(&sizes) };
            ratios.push(all / bound);
            let through: u32 = plants.iter().map(|p| p.through).sum();
            let refused: u32 = plants.iter().map(|p| p.refused).sum();
            refusals.push(f64::from(refused) / f64::from(through + refused));
            if what == "unequal" {
                for p in &plants[1..] {
                    smalls.push(p.done_at.unwrap().as_secs_f64() / (250.0 * 5.0 / QUOTA));
                }
            }
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
        lines.push(format!(
            "{what}: ratio mean {:.3} max {:.3}; refused mean {:.2} % max {:.2} %{}",
            mean(&ratios),
            max(&ratios),
            mean(&refusals) * 100.0,
            max(&refusals) * 100.0,
            if smalls.is_empty() {
                String::new()
            } else {
                format!("; small plants mean {:.2} max {:.2}", mean(&smalls), max(&smalls))
            }
        ));
    }
    for l in lines {
        eprintln!("{l}");
    }
}
