//! Typed, layered configuration.
//!
//! Layers, later ones winning: the settings type's `Default`, then an optional TOML file, then
//! environment variables prefixed `RAPPORT_` with `__` between nested keys
//! (`RAPPORT_SERVER__LISTEN=0.0.0.0:50051` sets `server.listen`).
//!
//! Settings types should use `#[serde(deny_unknown_fields)]` so that a misspelt key is an error
//! that names it instead of a silently ignored line. `RAPPORT_TEST_*` variables belong to the test
//! harness (e.g. `RAPPORT_TEST_DATABASE_URL`) and are not configuration.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The environment prefix for every setting.
pub const ENV_PREFIX: &str = "RAPPORT_";
/// Separates nested keys inside one environment variable name.
pub const ENV_NESTING: &str = "__";
/// `RAPPORT_` variables that are not settings of a service: the agent commands' own (where the
/// suite is and how to call it, `rapport --help`) and the test scripts' binary. An operator with
/// `RAPPORT_TOKEN` set for the CLI can still run `rapport serve`; no service has such a key.
pub const NOT_SETTINGS: &[&str] = &[
    "address",
    "admin",
    "token",
    "ca_file",
    "cert_file",
    "key_file",
    "tls_domain",
    "bin",
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value is missing, malformed or unknown; `key` is the dotted path (e.g. `server.listen`).
    #[error("invalid configuration at `{key}` (from {source_name}): {reason}")]
    Invalid {
        key: String,
        source_name: String,
        reason: String,
    },
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    /// A value parsed but breaks a rule the settings type checks itself.
    #[error("invalid configuration at `{key}`: {reason}")]
    Rule { key: String, reason: String },
}

/// Loads settings of type `T` from its defaults, an optional TOML file, and the environment.
///
/// A file given explicitly must exist: a typo in a path must not silently fall back to defaults.
pub fn load<T>(file: Option<&Path>) -> Result<T, ConfigError>
where
    T: Serialize + DeserializeOwned + Default,
{
    let mut figment = Figment::from(Serialized::defaults(T::default()));
    if let Some(path) = file {
        if !path.exists() {
            return Err(ConfigError::MissingFile(path.to_path_buf()));
        }
        figment = figment.merge(Toml::file(path));
    }
    figment = figment.merge(environment());
    figment.extract().map_err(describe)
}

fn environment() -> Env {
    Env::prefixed(ENV_PREFIX)
        .filter(|key| {
            let key = key.as_str().to_ascii_lowercase();
            !key.starts_with("test_") && !NOT_SETTINGS.contains(&key.as_str())
        })
        .split(ENV_NESTING)
}

/// Turns figment's error into one that names the key and where its value came from.
fn describe(error: figment::Error) -> ConfigError {
    let key = if error.path.is_empty() {
        // Unknown fields are reported on the parent; the field name is in the message.
        "(top level)".to_owned()
    } else {
        error.path.join(".")
    };
    let source_name = error
        .metadata
        .as_ref()
        .map(|metadata| metadata.name.to_string())
        .unwrap_or_else(|| "defaults".to_owned());
    ConfigError::Invalid {
        key,
        source_name,
        reason: error.kind.to_string(),
    }
}

#[cfg(test)]
// figment's Jail fixes the closure's error type; its size is not ours to choose.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Settings {
        server: Server,
        name: String,
    }

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Server {
        port: u16,
        timeout_ms: u64,
    }

    impl Default for Settings {
        fn default() -> Self {
            Self {
                server: Server {
                    port: 50051,
                    timeout_ms: 1000,
                },
                name: "profiles".into(),
            }
        }
    }

    #[test]
    fn file_overrides_defaults_and_environment_overrides_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "rapport.toml",
                "name = \"from-file\"\n[server]\nport = 7000\n",
            )?;
            jail.set_env("RAPPORT_SERVER__PORT", "8000");
            jail.set_env("RAPPORT_TEST_DATABASE_URL", "postgres://ignored");
            let settings: Settings =
                load(Some(Path::new("rapport.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(settings.name, "from-file");
            assert_eq!(settings.server.port, 8000);
            assert_eq!(settings.server.timeout_ms, 1000);
            Ok(())
        });
    }

    #[test]
    fn the_agent_commands_variables_are_not_settings() {
        figment::Jail::expect_with(|jail| {
            for name in NOT_SETTINGS {
                jail.set_env(format!("RAPPORT_{}", name.to_ascii_uppercase()), "x");
            }
            let settings: Settings = load(None).map_err(|e| e.to_string())?;
            assert_eq!(settings, Settings::default());
            Ok(())
        });
    }

    #[test]
    fn a_bad_value_names_its_key_and_source() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("RAPPORT_SERVER__PORT", "not-a-port");
            let error = load::<Settings>(None).expect_err("port must be a number");
            let message = error.to_string();
            assert!(message.contains("`server.port`"), "{message}");
            assert!(message.contains("RAPPORT_"), "{message}");
            Ok(())
        });
    }

    #[test]
    fn an_unknown_key_is_an_error_that_names_it() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("RAPPORT_SERVER__PROT", "1");
            let message = load::<Settings>(None)
                .expect_err("misspelt key")
                .to_string();
            assert!(message.contains("prot"), "{message}");
            assert!(message.contains("server"), "{message}");
            Ok(())
        });
    }

    #[test]
    fn a_missing_file_is_an_error() {
        let error = load::<Settings>(Some(Path::new("/nonexistent/rapport.toml")))
            .expect_err("missing file");
        assert!(matches!(error, ConfigError::MissingFile(_)));
    }
}
