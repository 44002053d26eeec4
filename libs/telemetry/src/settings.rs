use serde::{Deserialize, Serialize};

/// How a process reports what it does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetrySettings {
    /// `service.name` on every exported span.
    pub service_name: String,
    /// A `tracing_subscriber::EnvFilter` directive; `RUST_LOG` wins when set.
    pub log_filter: String,
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines, for a terminal.
    Text,
    /// One JSON object per line, for a log pipeline, with the `trace_id` and `span_id` of the
    /// span each line was logged in.
    Json,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            service_name: "rapport".to_owned(),
            log_filter: "info".to_owned(),
            log_format: LogFormat::Text,
        }
    }
}
