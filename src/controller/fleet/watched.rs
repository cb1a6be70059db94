//! What the operator's watches hold: the connections and namespaces a pass reads from memory
//! instead of asking the API server (one watch each, not a GET or two per pass).

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Namespace;
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{ObjectRef, Store};

use crate::crd::{ClusterDataZoneConnection, DataZoneConnection};

#[derive(Clone)]
pub struct Watched {
    /// DataZoneConnections, one store per watched scope (all namespaces, or each of a list).
    pub connections: Vec<Store<DataZoneConnection>>,
    pub cluster_connections: Store<ClusterDataZoneConnection>,
    /// Namespace metadata, for a ClusterDataZoneConnection's namespaceSelector.
    pub namespaces: Store<PartialObjectMeta<Namespace>>,
}

impl Watched {
    pub fn connection(&self, namespace: &str, name: &str) -> Option<Arc<DataZoneConnection>> {
        let key = ObjectRef::new(name).within(namespace);
        self.connections.iter().find_map(|store| store.get(&key))
    }

    pub fn cluster_connection(&self, name: &str) -> Option<Arc<ClusterDataZoneConnection>> {
        self.cluster_connections.get(&ObjectRef::new(name))
    }

    /// The namespace's labels; `None` when the watch has not seen it (yet).
    pub fn namespace_labels(&self, name: &str) -> Option<BTreeMap<String, String>> {
        self.namespaces.get(&ObjectRef::new(name)).map(|n| n.metadata.labels.clone().unwrap_or_default())
    }

    /// Waits until every store has its first complete listing.
    pub async fn ready(&self) {
        for store in &self.connections {
            let _ = store.wait_until_ready().await;
        }
        let _ = self.cluster_connections.wait_until_ready().await;
        let _ = self.namespaces.wait_until_ready().await;
    }
}
