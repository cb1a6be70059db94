//! A Kubernetes API in process for the reconcile tests: a real `kube::Client` over a tower
//! service that answers GETs from stored objects, echoes writes, and records every request, so
//! a test sees the status patches, Events and finalizer patches a pass makes.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};

/// One request as the API server would have seen it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub body: Value,
}

#[derive(Default)]
struct State {
    objects: HashMap<String, Value>,
    requests: Vec<Seen>,
}

#[derive(Clone, Default)]
pub struct FakeApi(Arc<Mutex<State>>);

impl FakeApi {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores `object` under its API path (what a GET of that path answers).
    pub fn put(&self, path: &str, object: Value) {
        self.state().objects.insert(path.to_string(), object);
    }

    /// The requests since the last look, and forgets them.
    pub fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut self.state().requests)
    }

    pub fn client(&self) -> kube::Client {
        let api = self.clone();
        let service = tower::service_fn(move |req: Request<kube::client::Body>| {
            let api = api.clone();
            async move { Ok::<_, Infallible>(api.answer(req).await) }
        });
        kube::Client::new(service, "default")
    }

    async fn answer(&self, req: Request<kube::client::Body>) -> Response<Full<Bytes>> {
        let method = req.method().to_string();
        let path = req.uri().path().to_string();
        let bytes = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let mut state = self.state();
        state.requests.push(Seen { method: method.clone(), path: path.clone(), body: body.clone() });
        let answer = match method.as_str() {
            "GET" => state.objects.get(&path).cloned(),
            "PATCH" if path.ends_with("/status") => {
                let parent = path.trim_end_matches("/status");
                let mut object = state.objects.get(parent).cloned().unwrap_or_else(|| body.clone());
                object["status"] = body["status"].clone();
                Some(object)
            }
            "PATCH" => Some(state.objects.get(&path).cloned().unwrap_or(body)),
            _ => Some(body),
        };
        drop(state);
        match answer {
            Some(object) => respond(StatusCode::OK, &object),
            None => respond(
                StatusCode::NOT_FOUND,
                &json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
                        "code": 404, "message": format!("{path} not found")}),
            ),
        }
    }
}

fn respond(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    response
}
