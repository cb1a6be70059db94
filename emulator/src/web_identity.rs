//! OpenID Connect tokens, checked the way STS (`AssumeRoleWithWebIdentity`) and EKS Auth (Pod
//! Identity) check a Kubernetes service account token: a JWT signed (RS256/384/512, or ES256 with a
//! P-256 key, which a cluster whose service-account key is EC issues) by a key, named
//! by the header's `kid`, of the JWKS of a registered provider whose issuer URL is the token's
//! `iss`; then its validity window and its audience. Pure functions: the callers map each
//! [`TokenError`] to their service's error.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD_INDIFFERENT as B64URL;
use serde_json::Value;

/// How far in the future `nbf` / `iat` may be (clock skew between the token's issuer and the
/// emulator) [inferred: STS documents no leeway; the issuer here is usually on the same host].
pub const CLOCK_SKEW_SECS: i64 = 60;

/// The audience STS expects of an IRSA token by default: what EKS writes into projected tokens
/// for IRSA and what `eksctl` registers as the OIDC provider's client ID [docs: IAM roles for
/// service accounts].
pub const STS_AUDIENCE: &str = "sts.amazonaws.com";

/// The audience of a Pod Identity token [model: eks-auth AssumeRoleForPodIdentityResponse
/// `audience` "This value is always pods.eks.amazonaws.com"].
pub const POD_IDENTITY_AUDIENCE: &str = "pods.eks.amazonaws.com";

/// One provider's signing keys by `kid`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Jwks {
    keys: BTreeMap<String, Key>,
}

/// A public key as `ring` verifies with it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Key {
    /// Modulus and exponent, big-endian without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// A P-256 point, uncompressed (`0x04 || x || y`, SEC 1).
    EcP256 { point: Vec<u8> },
}

impl Jwks {
    /// Reads a JWK Set (RFC 7517 §5: `{"keys": [{"kty": "RSA", "kid", "n", "e", …}]}`, or
    /// `{"kty": "EC", "crv": "P-256", "x", "y"}`, RFC 7518 §6.2). Keys of other types are skipped;
    /// a set without one usable key with a `kid` is an error, so a provider that could never
    /// verify a token is refused up front.
    pub fn parse(jwks: &Value) -> Result<Self, String> {
        let list = jwks.get("keys").and_then(Value::as_array).ok_or("a JWKS needs a \"keys\" array")?;
        let mut keys = BTreeMap::new();
        for (i, key) in list.iter().enumerate() {
            let bytes = |name: &str| {
                let text = key.get(name).and_then(Value::as_str).ok_or(format!("keys[{i}] has no \"{name}\""))?;
                B64URL.decode(text).map_err(|e| format!("keys[{i}].{name} is not base64url: {e}"))
            };
            let unsigned = |name: &str| {
                let b = bytes(name)?;
                let start = b.iter().position(|x| *x != 0).unwrap_or(b.len());
                Ok::<_, String>(b[start..].to_vec())
            };
            let parsed = match (key.get("kty").and_then(Value::as_str), key.get("crv").and_then(Value::as_str)) {
                (Some("RSA"), _) => Key::Rsa { n: unsigned("n")?, e: unsigned("e")? },
                (Some("EC"), Some("P-256")) => {
                    let (x, y) = (bytes("x")?, bytes("y")?);
                    if x.len() != 32 || y.len() != 32 {
                        return Err(format!("keys[{i}]: a P-256 key has 32-byte coordinates"));
                    }
                    Key::EcP256 { point: [&[4u8][..], &x, &y].concat() }
                }
                _ => continue,
            };
            let kid = key.get("kid").and_then(Value::as_str).ok_or(format!("keys[{i}] has no \"kid\""))?;
            keys.insert(kid.to_string(), parsed);
        }
        if keys.is_empty() {
            return Err("the JWKS has no RSA or P-256 key".into());
        }
        Ok(Self { keys })
    }

    pub fn kids(&self) -> Vec<&str> {
        self.keys.keys().map(String::as_str).collect()
    }
}

/// The claims the emulator reads. `raw` keeps the rest (`kubernetes.io` for Pod Identity).
#[derive(Clone, Debug, PartialEq)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    /// `aud`: a string or an array of strings (RFC 7519 §4.1.3), always as a list here.
    pub aud: Vec<String>,
    pub exp: i64,
    pub nbf: Option<i64>,
    pub iat: Option<i64>,
    pub raw: Value,
}

/// A token split and decoded, not yet verified.
#[derive(Clone, Debug)]
pub struct Token {
    pub alg: String,
    pub kid: Option<String>,
    pub claims: Claims,
    signing_input: String,
    signature: Vec<u8>,
}

/// Why a token is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Not three base64url parts of JSON, or a required claim missing or of the wrong type.
    Malformed(String),
    /// `alg` other than RS256/RS384/RS512.
    UnsupportedAlgorithm(String),
    /// No registered provider has this issuer URL.
    UnknownIssuer(String),
    /// The provider's JWKS has no key with the header's `kid` (or the header has none).
    UnknownKey(Option<String>),
    BadSignature,
    /// `exp` is not after now (both epoch seconds).
    Expired {
        now: i64,
        exp: i64,
    },
    /// `nbf` or `iat` further in the future than the skew allows.
    NotYetValid,
    /// `aud` does not contain the expected audience.
    WrongAudience {
        expected: String,
    },
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::Malformed(why) => write!(f, "the token is not a valid JWT: {why}"),
            TokenError::UnsupportedAlgorithm(alg) => write!(f, "unsupported signing algorithm {alg:?}"),
            TokenError::UnknownIssuer(iss) => write!(f, "no OpenID Connect provider for {iss}"),
            TokenError::UnknownKey(Some(kid)) => write!(f, "no key {kid:?} in the provider's JWKS"),
            TokenError::UnknownKey(None) => f.write_str("the token's header names no key (kid)"),
            TokenError::BadSignature => f.write_str("the token's signature does not verify"),
            TokenError::Expired { now, exp } => write!(f, "the token expired at {exp} (now {now})"),
            TokenError::NotYetValid => f.write_str("the token is not valid yet"),
            TokenError::WrongAudience { expected } => write!(f, "the token's audience does not include {expected}"),
        }
    }
}

fn malformed(why: impl Into<String>) -> TokenError {
    TokenError::Malformed(why.into())
}

/// Splits and decodes `header.payload.signature` without verifying anything. Timestamps must be
/// integers ("Timestamps in the token must be formatted as either an integer or a long integer"
/// [model: sts AssumeRoleWithWebIdentityRequest.WebIdentityToken]); `iss`, `sub` and `exp` are
/// required [inferred: a Kubernetes service account token always has them].
pub fn parse(token: &str) -> Result<Token, TokenError> {
    let token = token.trim();
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        return Err(malformed("a JWT has three dot-separated parts"));
    };
    let json = |part: &str, what: &str| -> Result<Value, TokenError> {
        let bytes = B64URL.decode(part).map_err(|e| malformed(format!("the {what} is not base64url: {e}")))?;
        let value: Value =
            serde_json::from_slice(&bytes).map_err(|e| malformed(format!("the {what} is not JSON: {e}")))?;
        if value.is_object() { Ok(value) } else { Err(malformed(format!("the {what} is not a JSON object"))) }
    };
    let header = json(header, "header")?;
    let raw = json(payload, "payload")?;
    let signature = B64URL.decode(signature).map_err(|e| malformed(format!("the signature is not base64url: {e}")))?;
    let alg = header.get("alg").and_then(Value::as_str).ok_or_else(|| malformed("the header has no alg"))?;
    let kid = header.get("kid").and_then(Value::as_str).map(str::to_string);
    let text = |name: &str| -> Result<String, TokenError> {
        raw.get(name).and_then(Value::as_str).map(str::to_string).ok_or_else(|| malformed(format!("no {name} claim")))
    };
    let time = |name: &str| -> Result<Option<i64>, TokenError> {
        match raw.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| malformed(format!("{name} is not an integer"))),
        }
    };
    let aud = match raw.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .map(|a| a.as_str().map(str::to_string).ok_or_else(|| malformed("aud holds a non-string")))
            .collect::<Result<_, _>>()?,
        _ => return Err(malformed("no aud claim")),
    };
    let claims = Claims {
        iss: text("iss")?,
        sub: text("sub")?,
        aud,
        exp: time("exp")?.ok_or_else(|| malformed("no exp claim"))?,
        nbf: time("nbf")?,
        iat: time("iat")?,
        raw: raw.clone(),
    };
    let signing_input = token[..token.rfind('.').unwrap_or(0)].to_string();
    Ok(Token { alg: alg.to_string(), kid, claims, signing_input, signature })
}

impl Token {
    /// The issuer is registered, the `kid` is one of its keys, and the signature verifies with it.
    pub fn verify_signature(&self, providers: &BTreeMap<String, Jwks>) -> Result<(), TokenError> {
        use ring::signature::{
            ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_2048_8192_SHA384,
            RSA_PKCS1_2048_8192_SHA512, RsaPublicKeyComponents, UnparsedPublicKey,
        };
        let rsa = match self.alg.as_str() {
            "RS256" => Some(&RSA_PKCS1_2048_8192_SHA256),
            "RS384" => Some(&RSA_PKCS1_2048_8192_SHA384),
            "RS512" => Some(&RSA_PKCS1_2048_8192_SHA512),
            // A JWS ES256 signature is r || s, 32 bytes each (RFC 7518 §3.4): ring's FIXED form.
            "ES256" => None,
            other => return Err(TokenError::UnsupportedAlgorithm(other.to_string())),
        };
        let jwks = providers.get(&self.claims.iss).ok_or_else(|| TokenError::UnknownIssuer(self.claims.iss.clone()))?;
        let key = self
            .kid
            .as_ref()
            .and_then(|kid| jwks.keys.get(kid))
            .ok_or_else(|| TokenError::UnknownKey(self.kid.clone()))?;
        let message = self.signing_input.as_bytes();
        let verified = match (key, rsa) {
            (Key::Rsa { n, e }, Some(algorithm)) => {
                RsaPublicKeyComponents { n, e }.verify(algorithm, message, &self.signature)
            }
            (Key::EcP256 { point }, None) => {
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).verify(message, &self.signature)
            }
            // The algorithm does not go with the key's type.
            _ => return Err(TokenError::BadSignature),
        };
        verified.map_err(|_| TokenError::BadSignature)
    }

    /// `exp` after `now`; `nbf` and `iat` not later than `now` plus the skew.
    pub fn check_time(&self, now: i64) -> Result<(), TokenError> {
        let c = &self.claims;
        if now >= c.exp {
            return Err(TokenError::Expired { now, exp: c.exp });
        }
        if c.nbf.into_iter().chain(c.iat).any(|t| t > now + CLOCK_SKEW_SECS) {
            return Err(TokenError::NotYetValid);
        }
        Ok(())
    }

    pub fn check_audience(&self, expected: &str) -> Result<(), TokenError> {
        if self.claims.aud.iter().any(|a| a == expected) {
            Ok(())
        } else {
            Err(TokenError::WrongAudience { expected: expected.to_string() })
        }
    }
}

/// IAM's `StringLike`: `*` matches any run of characters (also none), `?` exactly one
/// [docs: IAM JSON policy elements: Condition operators].
pub fn like(pattern: &str, value: &str) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    // Greedy matching with backtracking to the last `*`: linear for the patterns trust uses.
    let (mut pi, mut vi, mut star, mut mark) = (0, 0, None, 0);
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = vi;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            vi = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// `system:serviceaccount:<namespace>:<name>` → (namespace, name): the subject Kubernetes writes
/// into service account tokens [docs: Kubernetes, Managing Service Accounts].
pub fn service_account(sub: &str) -> Option<(&str, &str)> {
    let rest = sub.strip_prefix("system:serviceaccount:")?;
    let (namespace, name) = rest.split_once(':')?;
    (!namespace.is_empty() && !name.is_empty() && !name.contains(':')).then_some((namespace, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_like() {
        assert!(like("system:serviceaccount:*:datazone-operator", "system:serviceaccount:team-a:datazone-operator"));
        assert!(like(
            "system:serviceaccount:team-a:datazone-operator",
            "system:serviceaccount:team-a:datazone-operator"
        ));
        assert!(!like(
            "system:serviceaccount:team-a:datazone-operator",
            "system:serviceaccount:team-b:datazone-operator"
        ));
        assert!(like("*", ""));
        assert!(like("a*b*c", "axxbyyc"));
        assert!(!like("a*b*c", "axxbyy"));
        assert!(like("te?m", "team"));
        assert!(!like("te?m", "tem"));
    }

    #[test]
    fn service_account_subjects() {
        assert_eq!(service_account("system:serviceaccount:team-a:op"), Some(("team-a", "op")));
        assert_eq!(service_account("system:serviceaccount:team-a"), None);
        assert_eq!(service_account("user:alice"), None);
    }

    #[test]
    fn malformed_tokens() {
        assert!(matches!(parse("abc"), Err(TokenError::Malformed(_))));
        assert!(matches!(parse("a.b.c"), Err(TokenError::Malformed(_))));
        let b = |v: Value| B64URL.encode(v.to_string());
        let header = b(serde_json::json!({"alg": "RS256", "kid": "k"}));
        let float_exp = b(serde_json::json!({"iss": "https://i", "sub": "s", "aud": "a", "exp": 1.5}));
        assert!(
            matches!(parse(&format!("{header}.{float_exp}.AA")), Err(TokenError::Malformed(m)) if m.contains("exp"))
        );
        let ok = b(serde_json::json!({"iss": "https://i", "sub": "s", "aud": ["a", "b"], "exp": 10}));
        let token = parse(&format!("{header}.{ok}.AA")).unwrap();
        assert_eq!(token.claims.aud, ["a", "b"]);
        assert_eq!(token.check_time(10), Err(TokenError::Expired { now: 10, exp: 10 }));
        assert!(token.check_audience("b").is_ok());
        assert!(token.check_audience("c").is_err());
        assert_eq!(token.verify_signature(&BTreeMap::new()), Err(TokenError::UnknownIssuer("https://i".into())));
    }

    #[test]
    fn jwks_needs_an_rsa_key_with_a_kid() {
        assert!(Jwks::parse(&serde_json::json!({"keys": []})).is_err());
        assert!(Jwks::parse(&serde_json::json!({"keys": [{"kty": "EC", "crv": "P-384", "kid": "e"}]})).is_err());
        assert!(Jwks::parse(&serde_json::json!({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]})).is_err());
        let jwks = Jwks::parse(&serde_json::json!({"keys": [{"kty": "RSA", "kid": "k1", "n": "AAEC", "e": "AQAB"}]}));
        let jwks = jwks.unwrap();
        assert_eq!(jwks.kids(), ["k1"]);
        assert_eq!(jwks.keys["k1"], Key::Rsa { n: vec![1, 2], e: vec![1, 0, 1] }, "leading zeros dropped");
    }

    #[test]
    fn es256_tokens_of_a_p256_key_verify() {
        use ring::rand::SystemRandom;
        use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        let point = pair.public_key().as_ref();
        let jwks = serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "ec1",
            "x": B64URL.encode(&point[1..33]), "y": B64URL.encode(&point[33..])}]});
        let providers = BTreeMap::from([("https://i".to_string(), Jwks::parse(&jwks).unwrap())]);
        let b = |v: Value| B64URL.encode(v.to_string());
        let input = format!(
            "{}.{}",
            b(serde_json::json!({"alg": "ES256", "kid": "ec1"})),
            b(serde_json::json!({"iss": "https://i", "sub": "s", "aud": "a", "exp": 10}))
        );
        let signature = pair.sign(&rng, input.as_bytes()).unwrap();
        let token = parse(&format!("{input}.{}", B64URL.encode(signature.as_ref()))).unwrap();
        assert_eq!(token.verify_signature(&providers), Ok(()));
        let tampered = parse(&format!("{input}.{}", B64URL.encode([0u8; 64]))).unwrap();
        assert_eq!(tampered.verify_signature(&providers), Err(TokenError::BadSignature));
    }
}
