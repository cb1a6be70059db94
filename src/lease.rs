//! Leader election on a `coordination.k8s.io` Lease, so two replicas are safe: only the holder
//! reconciles. Writes use the Lease's resourceVersion (optimistic concurrency), so two
//! candidates never both win; a holder that cannot renew in time exits rather than risk two
//! reconcilers.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};

/// What a candidate does with the lease as it finds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeaseStep {
    /// No lease yet: create it, holding it.
    Create,
    /// We hold it: renew.
    Renew,
    /// Someone else held it and let it expire: take it over.
    TakeOver,
    /// Someone else holds it: wait.
    Wait,
}

/// The decision, given the lease's spec (if any), who we are, and the time.
pub fn step(spec: Option<&LeaseSpec>, me: &str, now: jiff::Timestamp) -> LeaseStep {
    let Some(spec) = spec else { return LeaseStep::Create };
    match spec.holder_identity.as_deref() {
        Some(holder) if holder == me => LeaseStep::Renew,
        None | Some("") => LeaseStep::TakeOver,
        Some(_) => {
            let duration = i64::from(spec.lease_duration_seconds.unwrap_or(15));
            let renewed = spec.renew_time.as_ref().map(|t| t.0).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
            if now.duration_since(renewed).as_secs() >= duration { LeaseStep::TakeOver } else { LeaseStep::Wait }
        }
    }
}

pub struct LeaderElection {
    api: Api<Lease>,
    name: String,
    identity: String,
    duration: Duration,
}

impl LeaderElection {
    pub fn new(client: Client, namespace: &str, name: &str, identity: &str, duration: Duration) -> Self {
        Self { api: Api::namespaced(client, namespace), name: name.into(), identity: identity.into(), duration }
    }

    /// One attempt to hold the lease; true when we hold it afterwards.
    pub async fn try_hold(&self) -> Result<bool, kube::Error> {
        let now = jiff::Timestamp::now();
        let current = self.api.get_opt(&self.name).await?;
        let step = step(current.as_ref().and_then(|l| l.spec.as_ref()), &self.identity, now);
        let seconds = i32::try_from(self.duration.as_secs()).unwrap_or(15);
        let result = match (step, current) {
            (LeaseStep::Wait, _) => return Ok(false),
            (LeaseStep::Create, _) => {
                let lease = Lease {
                    metadata: ObjectMeta { name: Some(self.name.clone()), ..ObjectMeta::default() },
                    spec: Some(LeaseSpec {
                        holder_identity: Some(self.identity.clone()),
                        lease_duration_seconds: Some(seconds),
                        acquire_time: Some(MicroTime(now)),
                        renew_time: Some(MicroTime(now)),
                        lease_transitions: Some(0),
                        ..LeaseSpec::default()
                    }),
                };
                self.api.create(&PostParams::default(), &lease).await
            }
            (step, Some(mut lease)) => {
                let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
                if step == LeaseStep::TakeOver {
                    spec.holder_identity = Some(self.identity.clone());
                    spec.acquire_time = Some(MicroTime(now));
                    spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
                }
                spec.lease_duration_seconds = Some(seconds);
                spec.renew_time = Some(MicroTime(now));
                // The resourceVersion read above makes this a compare-and-swap.
                self.api.replace(&self.name, &PostParams::default(), &lease).await
            }
            (_, None) => return Ok(false),
        };
        match result {
            Ok(_) => Ok(true),
            // Another candidate wrote first.
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Gives the lease up (a shutdown, once the last pass is over), so a standby takes over at
    /// its next look instead of waiting for the lease to expire. Only a lease this process still
    /// holds is released, by compare-and-swap like every other write.
    pub async fn release(&self) -> Result<bool, kube::Error> {
        let Some(mut lease) = self.api.get_opt(&self.name).await? else { return Ok(false) };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return Ok(false);
        }
        spec.holder_identity = None;
        match self.api.replace(&self.name, &PostParams::default(), &lease).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Waits until this process holds the lease.
    pub async fn acquire(&self) {
        let mut announced = false;
        loop {
            match self.try_hold().await {
                Ok(true) => {
                    tracing::info!(lease = self.name, identity = self.identity, "became the leader");
                    return;
                }
                Ok(false) if !announced => {
                    tracing::info!(lease = self.name, identity = self.identity, "another replica leads; standing by");
                    announced = true;
                }
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "leader election: cannot read or write the lease"),
            }
            tokio::time::sleep(self.duration / 3).await;
        }
    }

    /// Renews the lease every third of its duration; returns when it could not be held for a
    /// whole duration (the caller must stop reconciling then).
    pub async fn keep(&self) {
        let mut last_held = std::time::Instant::now();
        loop {
            tokio::time::sleep(self.duration / 3).await;
            match self.try_hold().await {
                Ok(true) => last_held = std::time::Instant::now(),
                Ok(false) => {
                    tracing::error!(lease = self.name, "lost the lease to another replica");
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, "could not renew the lease");
                    // Give up before the lease can expire under us.
                    if last_held.elapsed() + self.duration / 3 >= self.duration {
                        return;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(holder: &str, renewed_secs_ago: i64) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(holder.into()),
            lease_duration_seconds: Some(15),
            renew_time: Some(MicroTime(jiff::Timestamp::from_second(1_000_000 - renewed_secs_ago).unwrap())),
            ..LeaseSpec::default()
        }
    }

    #[test]
    fn lease_decisions() {
        let now = jiff::Timestamp::from_second(1_000_000).unwrap();
        assert_eq!(step(None, "a", now), LeaseStep::Create);
        assert_eq!(step(Some(&spec("a", 5)), "a", now), LeaseStep::Renew);
        assert_eq!(step(Some(&spec("b", 5)), "a", now), LeaseStep::Wait, "b holds a fresh lease");
        assert_eq!(step(Some(&spec("b", 15)), "a", now), LeaseStep::TakeOver, "b let it expire");
        assert_eq!(step(Some(&spec("", 1)), "a", now), LeaseStep::TakeOver, "released");
    }
}
