//! A Kubernetes service account issuer for the web identity tests: a test key, its JWKS, and
//! projected service account tokens signed with it.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair, RsaPublicKeyComponents};
use serde_json::{Value, json};

const TEST_KEY: &[u8] = include_bytes!("../fixtures/oidc-test-key.pk8");
pub const KID: &str = "emulator-test-key";

/// The Kubernetes API server's part: a key, its JWKS, and service account tokens signed with it.
pub struct ServiceAccountIssuer {
    key: RsaKeyPair,
    pub iss: String,
}

impl ServiceAccountIssuer {
    pub fn new(iss: &str) -> Self {
        Self { key: RsaKeyPair::from_pkcs8(TEST_KEY).expect("the test key"), iss: iss.to_string() }
    }

    pub fn jwks(&self) -> Value {
        let public = RsaPublicKeyComponents::<Vec<u8>>::from(self.key.public());
        json!({"keys": [{"use": "sig", "kty": "RSA", "kid": KID, "alg": "RS256",
                         "n": URL_SAFE_NO_PAD.encode(&public.n), "e": URL_SAFE_NO_PAD.encode(&public.e)}]})
    }

    /// `header.claims` signed with RS256.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), input.as_bytes(), &mut signature)
            .expect("signing");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// A projected service account token as the API server writes it, for `sub` and `aud`,
    /// expiring `expires_in` seconds from now.
    pub fn token(&self, sub: &str, aud: &str, expires_in: i64) -> String {
        self.sign(&json!({"alg": "RS256", "kid": KID}), &claims(&self.iss, sub, aud, expires_in))
    }
}

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// The claims of a pod-bound projected token (`kubernetes.io` as Kubernetes writes it).
pub fn claims(iss: &str, sub: &str, aud: &str, expires_in: i64) -> Value {
    let parts: Vec<&str> = sub.split(':').collect();
    let (namespace, name) = (parts.get(2).copied().unwrap_or(""), parts.get(3).copied().unwrap_or(""));
    let issued = now().min(now() + expires_in - 60);
    json!({
        "aud": [aud], "exp": now() + expires_in, "iat": issued, "nbf": issued, "iss": iss, "sub": sub,
        "kubernetes.io": {"namespace": namespace,
                          "pod": {"name": format!("{name}-7d9f"), "uid": "0b7a3c1e-2f4d-4e5a-9b6c-7d8e9f0a1b2c"},
                          "serviceaccount": {"name": name, "uid": "5f0e1d2c-3b4a-4958-8776-655443322110"}},
    })
}
