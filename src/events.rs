//! Kubernetes Events (`events.k8s.io/v1`), published without a cache.
//!
//! kube's `Recorder` keeps every Event it published for six minutes, to count repeats into a
//! series, and sweeps that whole cache on each publish. At fleet scale that is memory and a
//! quadratic sweep for nothing: the operator emits an Event on a transition (a data source
//! created, a run ended), not once per pass, so the same Event rarely repeats within minutes.
//! Each one is created as it happens, with the fields kube's recorder would set.

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event as K8sEvent;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{ObjectMeta, PostParams};
use kube::runtime::events::{Event, EventType, Reporter};
use kube::{Api, Client};

#[derive(Clone)]
pub struct Events {
    client: Client,
    reporter: Reporter,
}

impl Events {
    pub fn new(client: Client, reporter: Reporter) -> Self {
        Self { client, reporter }
    }

    /// Creates the Event about `regarding`, in its namespace.
    pub async fn publish(&self, event: &Event, regarding: &ObjectReference) -> Result<(), kube::Error> {
        let namespace = regarding.namespace.as_deref().unwrap_or("default");
        let api: Api<K8sEvent> = Api::namespaced(self.client.clone(), namespace);
        api.create(&PostParams::default(), &self.build(event, regarding, jiff::Timestamp::now())).await.map(|_| ())
    }

    /// The Event object: named after the object and the time, so names never collide.
    fn build(&self, event: &Event, regarding: &ObjectReference, now: jiff::Timestamp) -> K8sEvent {
        let controller = &self.reporter.controller;
        let about = regarding.name.as_deref().unwrap_or(controller);
        K8sEvent {
            metadata: ObjectMeta {
                name: Some(format!("{about}.{:x}", now.as_nanosecond())),
                namespace: regarding.namespace.clone(),
                ..ObjectMeta::default()
            },
            action: Some(event.action.clone()),
            reason: Some(event.reason.clone()),
            note: event.note.clone(),
            type_: Some(match event.type_ {
                EventType::Normal => "Normal".into(),
                EventType::Warning => "Warning".into(),
            }),
            event_time: Some(MicroTime(now)),
            regarding: Some(regarding.clone()),
            related: event.secondary.clone(),
            reporting_controller: Some(controller.clone()),
            reporting_instance: Some(self.reporter.instance.clone().unwrap_or_else(|| controller.clone())),
            ..K8sEvent::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_event_carries_what_kubectl_describe_shows() {
        let client = Client::try_from(kube::Config::new("http://127.0.0.1:1".parse().unwrap())).unwrap();
        let events =
            Events::new(client, Reporter { controller: "datazone-operator".into(), instance: Some("pod-1".into()) });
        let regarding = ObjectReference {
            kind: Some("RedshiftDataProduct".into()),
            namespace: Some("team-sales".into()),
            name: Some("orders".into()),
            ..ObjectReference::default()
        };
        let event = Event {
            type_: EventType::Warning,
            reason: "RunFailed".into(),
            note: Some("run r1 ended FAILED".into()),
            action: "Reconcile".into(),
            secondary: None,
        };
        let now = jiff::Timestamp::from_second(1_800_000_000).unwrap();
        let built = events.build(&event, &regarding, now);
        assert_eq!(built.metadata.namespace.as_deref(), Some("team-sales"));
        assert_eq!(built.metadata.name, Some(format!("orders.{:x}", now.as_nanosecond())));
        assert_eq!(
            (built.type_.as_deref(), built.reason.as_deref(), built.note.as_deref(), built.action.as_deref()),
            (Some("Warning"), Some("RunFailed"), Some("run r1 ended FAILED"), Some("Reconcile"))
        );
        assert_eq!(built.regarding, Some(regarding));
        assert_eq!(built.reporting_controller.as_deref(), Some("datazone-operator"));
        assert_eq!(built.reporting_instance.as_deref(), Some("pod-1"));
        assert!(built.event_time.is_some() && built.series.is_none());
    }
}
