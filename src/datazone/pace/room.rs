//! The room an account's quota has left: the calls that get through a second now, against the
//! most that have got through lately. Where one quota serves every operation (the emulator's
//! `--rate-limit`; other AWS services), a publishing fleet's calls move from operation to operation
//! (data sources made, then runs started, then data products made), and the paces of the
//! operations called next hold only the share they had while the others were busy: grown back a
//! step at a time after their last cut, a single operator publishing 1,000 took 1.27 × the bound
//! instead of 1.05 (docs/design/fleet.md). While the account has room, such a pace probes for it
//! ([`super::Pace`]).

use std::time::{Duration, Instant};

/// The account has room while its calls through are below this share of the most lately: below
/// the trough of a pace cut by a refusal ([`super::CUT`]), so the rise and fall of paces sharing a
/// quota is not room.
const ROOM: f64 = 0.75;
/// The calls through a second, smoothed with this weight for the newest second: a probe sees the
/// room it took within a second or two.
const NOW_WEIGHT: f64 = 0.5;
/// The most calls through a second fades by this share a second, half of it gone in about half a
/// minute: an operator's own calls through keep it up while it uses its quota, and what it took
/// before neighbours sharing a quota came (a plant's start, alone for a few seconds) stops reading
/// as room within a minute or two. Faded by 0.1 % a second, that room stayed, and probing for it
/// (again ten seconds after each probe that took room, [`super::PROBE_SPACING_TAKEN`], by 3 a
/// second each second) refused five plants sharing per-API quotas 2.75 % of their calls instead
/// of 2.20 % (the mean of 24 simulated runs, [`super::simulation`]).
const BEST_FADE: f64 = 0.02;
/// The most is of the calls through smoothed with this weight, about the last five seconds, not
/// of `now`: a bucket's burst at the start (88 through in the third second under a quota of 50)
/// and the second-to-second swing of paces cut and growing lifted the most above the quota, a
/// fleet at its quota read as room, its paces' probes were refused at the start, and none was left
/// for ten minutes when a stage done left real room: one operator publishing 1,000 under one quota
/// of 50 took 1.44 × the bound in the simulation ([`super::simulation`]), 1.07 × with this.
const SLOW_WEIGHT: f64 = 0.2;
/// The calls through of one account and region, and whether they have fallen well below the most.
#[derive(Clone, Debug)]
pub struct Room {
    /// When the current second began, and the calls through in it.
    second: (Instant, u32),
    /// Calls through a second, smoothed ([`NOW_WEIGHT`]).
    now: f64,
    /// The most `slow` has been, fading ([`BEST_FADE`]).
    best: f64,
    /// Calls through a second, smoothed over longer ([`SLOW_WEIGHT`]).
    slow: f64,
}

impl Room {
    pub fn new(now: Instant) -> Self {
        Self { second: (now, 0), now: 0.0, best: 0.0, slow: 0.0 }
    }

    /// The seconds that ended by `now` go into the smoothed calls through (the quiet ones as
    /// none), and into the best.
    fn roll(&mut self, now: Instant) {
        let (start, calls) = self.second;
        let elapsed = now.saturating_duration_since(start).as_secs();
        if elapsed == 0 {
            return;
        }
        self.now += NOW_WEIGHT * (f64::from(calls) - self.now);
        let quiet = i32::try_from(elapsed - 1).unwrap_or(i32::MAX);
        self.now *= (1.0 - NOW_WEIGHT).powi(quiet);
        self.slow += SLOW_WEIGHT * (f64::from(calls) - self.slow);
        self.slow *= (1.0 - SLOW_WEIGHT).powi(quiet);
        self.best = (self.best * (1.0 - BEST_FADE).powi(quiet + 1)).max(self.slow);
        self.second = (start + Duration::from_secs(elapsed), 0);
    }

    /// A call of any operation got through.
    pub fn through(&mut self, now: Instant) {
        self.roll(now);
        self.second.1 += 1;
    }

    /// Whether the calls through are well below the most lately.
    pub fn spare(&mut self, now: Instant) -> bool {
        self.roll(now);
        self.now < ROOM * self.best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `per_second` calls through in each of `seconds` seconds from `start`; the time after.
    fn through(room: &mut Room, start: Instant, seconds: u64, per_second: u32) -> Instant {
        for s in 0..seconds {
            for c in 0..per_second {
                room.through(
                    start + Duration::from_secs(s) + Duration::from_millis(u64::from(c) * 1000 / u64::from(per_second)),
                );
            }
        }
        start + Duration::from_secs(seconds)
    }

    #[test]
    fn room_is_a_fall_well_below_the_most_through_lately() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut room = Room::new(t0);
        assert!(!room.spare(t0), "nothing through yet: no room to speak of");
        let now = through(&mut room, t0, 20, 50);
        assert!(!room.spare(now), "at the most");
        // A pace cut by a refusal (to 0.8) is not room.
        let now = through(&mut room, now, 5, 40);
        assert!(!room.spare(now), "40 of 50");
        // The calls moved to an operation whose pace held a third of the quota.
        let now = through(&mut room, now, 3, 17);
        assert!(room.spare(now), "17 of 50");
        // The probe took it back.
        let now = through(&mut room, now, 3, 45);
        assert!(!room.spare(now), "45 of 50");
    }

    #[test]
    fn a_burst_at_the_start_and_a_seconds_dip_are_no_room() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut room = Room::new(t0);
        // A quota of 50: its bucket's burst in the first seconds, then the quota, a second's
        // calls going up and down around it as paces are cut and grow.
        let mut now = through(&mut room, t0, 2, 55);
        now = through(&mut room, now, 1, 88);
        for _ in 0..10 {
            now = through(&mut room, now, 1, 45);
            now = through(&mut room, now, 1, 55);
        }
        now = through(&mut room, now, 1, 38);
        assert!(!room.spare(now), "a second of 38 in a quota of 50 used");
        // A stage done: the calls through fall for good.
        let now = through(&mut room, now, 3, 17);
        assert!(room.spare(now), "a third of it");
    }
}
