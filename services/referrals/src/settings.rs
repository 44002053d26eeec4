use rapport_server::ServerSettings;
use rapport_storage::StorageSettings;
use rapport_telemetry::TelemetrySettings;
use serde::{Deserialize, Serialize};

/// Everything the referrals service reads at start (`RAPPORT_` environment variables override a
/// TOML file, which overrides these defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub server: ServerSettings,
    pub storage: StorageSettings,
    pub telemetry: TelemetrySettings,
    /// How this service calls the others: TLS, its client certificate, its bearer token.
    pub client: rapport_clients::ClientSettings,
    /// Where loyalty serves: the outbox worker delivers this service's domain events to its
    /// `IngestEvents`. Empty: no delivery (events wait in the outbox, and the start says so).
    pub loyalty_url: String,
    pub rules: crate::rules::Rules,
    /// Where profiles serves (tenure, standing, contact points for fraud checks).
    pub profiles_url: String,
    /// Trust computed in batch and served from storage (issue 23).
    pub trust: TrustSettings,
}

/// How trust is recomputed and how old a stored answer may be served (`[trust]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrustSettings {
    /// Run the recompute worker in this process (the batch and the online updates between
    /// batches). Run it in one replica: a second is safe — a batch never overwrites a newer
    /// one's answers, and an online update settles a version only once — but each keeps its
    /// own state in memory and repeats the work.
    pub worker: bool,
    /// Recompute everything at least this often, changed or not (seconds). The stored answers
    /// also expire at UTC midnight (tenure counts in days) and when a standing lapses by itself,
    /// and the worker recomputes then.
    pub recompute_interval_seconds: u64,
    /// After an edge or a standing changes, recompute once the graph has been quiet this long
    /// (seconds; a burst of vouches is one recompute), and at most ten times this after the
    /// last batch however busy the graph is.
    pub debounce_seconds: u64,
    /// A stored answer the graph has changed since is served for less than this long after it
    /// was computed (seconds), with a reason saying so; older, GetTrust computes online. 0: only
    /// exact answers are served.
    pub max_staleness_seconds: u64,
    /// Answers written per transaction.
    pub page_size: u32,
}

impl Default for TrustSettings {
    fn default() -> Self {
        Self {
            worker: true,
            recompute_interval_seconds: 3_600,
            debounce_seconds: 30,
            max_staleness_seconds: 86_400,
            page_size: 1_000,
        }
    }
}

impl TrustSettings {
    pub fn max_staleness(&self) -> jiff::SignedDuration {
        jiff::SignedDuration::from_secs(
            i64::try_from(self.max_staleness_seconds).unwrap_or(i64::MAX),
        )
    }

    /// The setting at fault, for start-up validation.
    pub fn validate(&self) -> Result<(), String> {
        if self.page_size == 0 {
            return Err("trust.page_size must be at least 1".into());
        }
        if self.recompute_interval_seconds == 0 {
            return Err("trust.recompute_interval_seconds must be at least 1".into());
        }
        Ok(())
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            server: ServerSettings::default(),
            storage: StorageSettings {
                url: format!("sqlite://.rapport/{}.db", crate::NAME),
                ..StorageSettings::default()
            },
            client: rapport_clients::ClientSettings::default(),
            telemetry: TelemetrySettings {
                service_name: format!("rapport-{}", crate::NAME),
                ..TelemetrySettings::default()
            },
            loyalty_url: String::new(),
            rules: crate::rules::Rules::default(),
            profiles_url: "http://127.0.0.1:50051".to_owned(),
            trust: TrustSettings::default(),
        }
    }
}
