//! The emulator on malformed input, 10,000 requests per protocol, seeded (`PROPERTY_SEED`
//! replays a run): restJson1 bodies and query strings on every DataZone route, awsQuery forms for
//! STS, awsJson1.1 bodies for the Redshift Data API — all correctly signed, so the body parsers
//! are reached — and `Authorization` headers of every shape for the SigV4 parser. Every answer is
//! the protocol's success or its error shape (restJson1: `x-amzn-ErrorType` and a JSON
//! `message`; awsQuery: `<ErrorResponse>`; awsJson1.1: a JSON `__type`), and the server never
//! drops a connection (a panic in a handler would).

mod common;

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use common::rng::Rng;
use common::{GOVERNANCE, fast, start};
use serde_json::{Map, Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;

const CASES: usize = 10_000;

/// Random strings, JSON and bodies for requests.
trait Gen {
    fn string(&mut self) -> String;
    fn value(&mut self, depth: u32) -> Value;
    fn body(&mut self) -> Vec<u8>;
}

impl Gen for Rng {
    fn string(&mut self) -> String {
        const PIECES: &[&str] =
            &["a", "9", "-", "_", "/", "%", "%zz", "&", "=", "é", " ", "\"", "{", "dzd_1", "REDSHIFT"];
        let len = [0, 1, 4, 20, 200][self.below(5)];
        (0..len).map(|_| self.pick(PIECES)).collect()
    }
    fn value(&mut self, depth: u32) -> Value {
        match self.below(if depth > 2 { 5 } else { 7 }) {
            0 => Value::Null,
            1 => json!(self.below(2) == 1),
            2 => json!(self.next() as i64),
            3 => json!(-1.5),
            4 => json!(self.string()),
            5 => Value::Array((0..self.below(3)).map(|_| self.value(depth + 1)).collect()),
            _ => {
                let keys = [
                    "name",
                    "projectIdentifier",
                    "configuration",
                    "props",
                    "type",
                    "clientToken",
                    "storage",
                    "model",
                    "smithy",
                    "owningProjectIdentifier",
                    "glossaryIdentifier",
                    "formsInput",
                    "assetFormsInput",
                    "formName",
                    "typeIdentifier",
                    "content",
                    "glossaryTerms",
                    "termRelations",
                    "entityIdentifier",
                    "action",
                    "target",
                    "types",
                    "items",
                    "itemType",
                    "identifier",
                    "revision",
                    "entityType",
                    "searchText",
                    "filters",
                ];
                let mut m = Map::new();
                for _ in 0..self.below(5) {
                    let key = if self.below(2) == 0 { self.pick(&keys).to_string() } else { self.string() };
                    m.insert(key, self.value(depth + 1));
                }
                Value::Object(m)
            }
        }
    }
    /// A JSON body, or bytes that are not JSON at all.
    fn body(&mut self) -> Vec<u8> {
        match self.below(6) {
            0 => Vec::new(),
            1 => self.string().into_bytes(),
            2 => vec![0xff, 0xfe, b'{'],
            _ => self.value(0).to_string().into_bytes(),
        }
    }
}

/// One HTTP/1.1 exchange on a fresh connection, or `None` when the server closed the connection
/// without an answer.
/// An answer: status, headers (names lower-cased), body.
type Answer = (u16, Vec<(String, String)>, Vec<u8>);

/// Holds an answer to its protocol's shapes.
type Check = fn(u16, &[(String, String)], &[u8]) -> Result<(), String>;

fn exchange(addr: &str, head: &str, body: &[u8]) -> Option<Answer> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let text = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = text.lines();
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some((status, headers, raw[split + 4..].to_vec()))
}

/// The request's head, signed with the governance key for `service` (or with `authorization`
/// in place of a signature).
fn head(
    method: &str,
    path: &str,
    extra: &[(&str, String)],
    body: &[u8],
    service: &str,
    auth: Option<String>,
) -> String {
    let now = SystemTime::now();
    let amz_date = jiff::Timestamp::try_from(now).unwrap().strftime("%Y%m%dT%H%M%SZ").to_string();
    let mut headers: Vec<(String, String)> = vec![("host".into(), "emulator".into()), ("x-amz-date".into(), amz_date)];
    headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let authorization = auth.unwrap_or_else(|| {
        let identity: Identity = Credentials::new(GOVERNANCE.0, GOVERNANCE.1, None, None, "fuzz").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(common::REGION)
            .name(service)
            .time(now)
            .settings(SigningSettings::default())
            .build()
            .unwrap();
        let signable = SignableRequest::new(
            method,
            path,
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(body),
        );
        match signable.and_then(|r| sign(r, &params.into())) {
            Ok(out) => {
                let (instructions, _) = out.into_parts();
                let (signed, _) = instructions.into_parts();
                signed.iter().find(|h| h.name() == "authorization").map(|h| h.value().to_string()).unwrap_or_default()
            }
            // A path the signer refuses goes out unsigned: the auth error is the answer then.
            Err(_) => String::new(),
        }
    });
    let mut out = format!("{method} {path} HTTP/1.1\r\n");
    for (k, v) in &headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    if !authorization.is_empty() {
        out.push_str(&format!("authorization: {authorization}\r\n"));
    }
    out.push_str(&format!("content-length: {}\r\nconnection: close\r\n\r\n", body.len()));
    out
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_the_protocols_error_shapes_and_never_a_dropped_connection() {
    let (mut rng, seed) = Rng::from_env(0x5EED_F00D);
    let emulator = start(fast()).await;
    let addr = emulator.addr.to_string();
    // Plain blocking sockets off the runtime's threads, which serve the emulator.
    let answered = tokio::task::spawn_blocking(move || fuzz(&addr, &mut rng, seed)).await.unwrap();
    println!(
        "malformed requests: {CASES} per protocol; answered with success: restJson1 {}, awsQuery {}, awsJson1.1 {}, SigV4 {}",
        answered[0], answered[1], answered[2], answered[3]
    );
    emulator.shutdown().await;
}

/// Sends the cases; answers how many of each protocol's were successes.
fn fuzz(addr: &str, rng: &mut Rng, seed: u64) -> [usize; 4] {
    const ROUTES: &[(&str, &str)] = &[
        ("POST", "/v2/domains"),
        ("GET", "/v2/domains/dzd_0123456789abcd"),
        ("POST", "/v2/domains/dzd_0123456789abcd/projects"),
        ("POST", "/v2/domains/dzd_0123456789abcd/environment-profiles"),
        ("POST", "/v2/domains/dzd_0123456789abcd/environments"),
        ("PUT", "/v2/domains/dzd_0123456789abcd/environment-blueprint-configurations/bp"),
        ("POST", "/v2/domains/dzd_0123456789abcd/data-sources"),
        ("PATCH", "/v2/domains/dzd_0123456789abcd/data-sources/ds1"),
        ("GET", "/v2/domains/dzd_0123456789abcd/data-sources"),
        ("POST", "/v2/domains/dzd_0123456789abcd/data-sources/ds1/runs"),
        ("POST", "/v2/domains/dzd_0123456789abcd/connections"),
        ("GET", "/v2/domains/dzd_0123456789abcd/connections"),
        ("POST", "/v2/domains/dzd_0123456789abcd/search"),
        ("POST", "/v2/domains/dzd_0123456789abcd/form-types"),
        ("GET", "/v2/domains/dzd_0123456789abcd/form-types/amazon.datazone.RedshiftTableFormType"),
        ("POST", "/v2/domains/dzd_0123456789abcd/glossaries"),
        ("PATCH", "/v2/domains/dzd_0123456789abcd/glossaries/g1"),
        ("POST", "/v2/domains/dzd_0123456789abcd/glossary-terms"),
        ("PATCH", "/v2/domains/dzd_0123456789abcd/glossary-terms/t1"),
        ("POST", "/v2/domains/dzd_0123456789abcd/assets/a1/revisions"),
        ("POST", "/v2/domains/dzd_0123456789abcd/listings/change-set"),
        ("GET", "/v2/domains/dzd_0123456789abcd/listings/l1"),
        ("POST", "/v2/domains/dzd_0123456789abcd/listings/search"),
        ("DELETE", "/v2/domains/dzd_0123456789abcd/assets/a1"),
        ("POST", "/v2/domains/dzd_0123456789abcd/data-products"),
        ("GET", "/v2/domains/dzd_0123456789abcd/data-products/dp1"),
        ("DELETE", "/v2/domains/dzd_0123456789abcd/data-products/dp1"),
        ("POST", "/v2/domains/dzd_0123456789abcd/data-products/dp1/revisions"),
        ("GET", "/v2/domains/dzd_0123456789abcd/data-products/dp1/revisions"),
        ("POST", "/v2/domains/dzd_0123456789abcd/metadata-generation-runs"),
        ("GET", "/v2/domains/%zz/projects"),
    ];
    const QUERIES: &[&str] =
        &["", "?projectIdentifier=p", "?maxResults=0", "?nextToken=%%", "?maxResults=x&name=", "?a=b=c"];
    let mut answered = [0usize; 4];
    for case in 0..CASES * 4 {
        let protocol = case % 4;
        let (request, body, check): (String, Vec<u8>, Check) = match protocol {
            0 => {
                let (method, path) = ROUTES[rng.below(ROUTES.len())];
                let path = format!("{path}{}", rng.pick(QUERIES));
                let body = rng.body();
                let extra = [("content-type", "application/json".to_string())];
                (head(method, &path, &extra, &body, "datazone", None), body, rest_json)
            }
            1 => {
                let action = rng.pick(&["AssumeRole", "GetCallerIdentity", "Nope", ""]);
                let mut form = format!("Action={action}&Version=2011-06-15");
                for _ in 0..rng.below(5) {
                    let key = rng.pick(&[
                        "RoleArn",
                        "RoleSessionName",
                        "DurationSeconds",
                        "ExternalId",
                        "Tags.member.1.Key",
                        "x",
                    ]);
                    form.push_str(&format!("&{key}={}", rng.string()));
                }
                let body = form.into_bytes();
                let extra = [("content-type", "application/x-www-form-urlencoded".to_string())];
                (head("POST", "/", &extra, &body, "sts", None), body, aws_query)
            }
            2 => {
                let target = rng.pick(&["ListTables", "ListSchemas", "ListDatabases", "ExecuteStatement", ""]);
                let body = rng.body();
                let extra = [
                    ("content-type", "application/x-amz-json-1.1".to_string()),
                    ("x-amz-target", format!("RedshiftData.{target}")),
                ];
                (head("POST", "/", &extra, &body, "redshift-data", None), body, aws_json)
            }
            _ => {
                // The SigV4 parser: Authorization headers of every shape on a DataZone call.
                let auth = match rng.below(5) {
                    0 => rng.string(),
                    1 => format!("AWS4-HMAC-SHA256 {}", rng.string()),
                    2 => format!(
                        "AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={}",
                        rng.pick(&[GOVERNANCE.0, "AKIAUNKNOWN000000001", ""]),
                        rng.string(),
                        rng.pick(&["host;x-amz-date", "", ";;", "host;nope"]),
                        rng.string()
                    ),
                    3 => "AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f/g".to_string(),
                    _ => format!("Bearer {}", rng.string()),
                };
                let request = head("GET", "/v2/domains", &[], b"", "datazone", Some(auth));
                (request, Vec::new(), rest_json)
            }
        };
        let Some((status, headers, answer)) = exchange(addr, &request, &body) else {
            panic!(
                "case {case} (seed {seed}): the connection was dropped\n{request}{}",
                String::from_utf8_lossy(&body)
            );
        };
        if let Err(problem) = check(status, &headers, &answer) {
            panic!(
                "case {case} (seed {seed}): {problem}\n{request}{}\n-> {status} {}",
                String::from_utf8_lossy(&body),
                String::from_utf8_lossy(&answer)
            );
        }
        answered[protocol] += usize::from(status < 400);
    }
    answered
}

fn rest_json(status: u16, headers: &[(String, String)], body: &[u8]) -> Result<(), String> {
    if status < 400 {
        return if status == 204 || serde_json::from_slice::<Value>(body).is_ok() {
            Ok(())
        } else {
            Err("not JSON".into())
        };
    }
    let kind = header(headers, "x-amzn-errortype").ok_or("no x-amzn-ErrorType")?;
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("error body is not JSON: {e}"))?;
    v["message"].as_str().ok_or("no message")?;
    if kind.is_empty() { Err("empty error type".into()) } else { Ok(()) }
}

fn aws_query(status: u16, _: &[(String, String)], body: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(body);
    let shape = if status < 400 { "Response>" } else { "<ErrorResponse" };
    if text.contains(shape) && (status < 400 || text.contains("<Code>")) { Ok(()) } else { Err(format!("not {shape}")) }
}

fn aws_json(status: u16, _: &[(String, String)], body: &[u8]) -> Result<(), String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    if status < 400 || v["__type"].as_str().is_some_and(|t| !t.is_empty()) { Ok(()) } else { Err("no __type".into()) }
}
