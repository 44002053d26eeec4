use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How callers prove who they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    /// Every call but health needs a valid bearer token (JWT) whose roles allow it.
    Jwt,
    /// No authentication: every call is let through as `anonymous`. For `rapport dev` and tests;
    /// `rapport serve` refuses it unless the configuration says `insecure = true`.
    #[default]
    None,
}

/// Bearer-token checks (`[server.auth]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    pub mode: AuthMode,
    /// The `iss` every token must carry.
    pub issuer: String,
    /// The `aud` every token must include.
    pub audience: String,
    /// Public keys (RS256, ES256) as a JSON Web Key Set file, from the bank's identity provider.
    pub jwks_file: Option<PathBuf>,
    /// A shared secret for HS256 tokens: development only (`rapport token` mints them).
    pub hs256_secret_file: Option<PathBuf>,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    pub leeway_seconds: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            mode: AuthMode::None,
            issuer: "rapport-dev".to_owned(),
            audience: "rapport".to_owned(),
            jwks_file: None,
            hs256_secret_file: None,
            // RFC 7519 §4.1.4 allows "some small leeway, usually no more than a few minutes".
            leeway_seconds: 30,
        }
    }
}

/// A token bucket: `per_second` on average (0.001 to 1,000,000), bursts up to `burst` (1 to
/// 1,000,000); checked when the server starts, with an error naming the key.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: u32,
}

/// Per-caller rate limits (`[server.rate_limit]`); a caller is a token subject, or the peer
/// address when there is no authentication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitSettings {
    /// `false` turns limiting off (benchmarks).
    pub enabled: bool,
    pub default: RateLimit,
    /// Limits for callers holding a role, by role name (e.g. `service`, whose delivery workers
    /// send bursts); the most generous limit among a caller's roles applies.
    pub per_role: BTreeMap<String, RateLimit>,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            // An agent's screen makes a handful of calls per action; 50/s is far above a person.
            default: RateLimit {
                per_second: 50.0,
                burst: 100,
            },
            per_role: BTreeMap::new(),
        }
    }
}
