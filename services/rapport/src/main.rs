//! `rapport`: the whole suite in one binary.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use rapport::service::{self, ServiceName};
use rapport::{agent, check, dev};
use rapport_security::Role;
use rapport_telemetry::TelemetrySettings;

#[derive(Debug, Parser)]
#[command(name = "rapport", version, about = "Rapport: keep customers for life")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run all four services, and the desk that asks them, in one process on embedded SQLite
    /// (nothing to install).
    Dev {
        /// Address to serve every service on.
        #[arg(long, default_value = dev::DEFAULT_LISTEN)]
        listen: SocketAddr,
        /// Directory for the services' databases (one SQLite file each).
        #[arg(long, default_value = dev::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
        /// Address of the admin port: Prometheus /metrics, /livez, /readyz and gRPC health.
        #[arg(long, default_value = dev::DEFAULT_ADMIN_LISTEN)]
        admin_listen: SocketAddr,
        /// Seed a realistic data set (once per data directory) through the suite's own API; with
        /// --secure, over mutual TLS with a development token for `rapport-demo`.
        #[arg(long)]
        demo: bool,
        /// Serve mutual TLS and require bearer tokens, with a development CA, certificates and
        /// HS256 secret kept in this directory (made on first use).
        #[arg(long, value_name = "DIR")]
        secure: Option<PathBuf>,
        /// A movable business date: every service reads a clock starting at this RFC 3339
        /// instant (e.g. 2026-03-01T09:00:00Z), moved with `rapport clock`. Development only.
        #[arg(long, value_name = "INSTANT")]
        clock: Option<jiff::Timestamp>,
        /// How fast the business clock runs: business seconds per real second (60 = a minute a
        /// second, 0 = stopped); alone, a movable clock starting now.
        #[arg(long, value_name = "SPEED")]
        clock_speed: Option<f64>,
        /// How long the desk's overview waits for the four services before answering with the
        /// sections that came back (the others marked unavailable).
        #[arg(long, value_name = "MS", default_value_t = 150)]
        desk_budget_ms: u64,
        /// Address of the agents' browser console, served by the desk (docs/console.md).
        #[arg(long, value_name = "ADDR", default_value = dev::DEFAULT_CONSOLE_LISTEN)]
        console_listen: SocketAddr,
    },
    /// Read or move the business clock of a suite started with `rapport dev --clock`.
    Clock {
        #[command(subcommand)]
        command: ClockCommand,
        /// The suite's admin port.
        #[arg(long, env = "RAPPORT_ADMIN", default_value = rapport::business_clock::DEFAULT_ADMIN, global = true)]
        admin: String,
    },
    /// Mint a development bearer token (HS256) for `rapport dev --secure` or a service configured
    /// with `hs256_secret_file`. Prints the token.
    Token {
        /// The shared secret (e.g. DIR/token.secret of `rapport dev --secure DIR`).
        #[arg(long)]
        secret_file: PathBuf,
        /// A role: agent, supervisor, billing_system, service, auditor or sre (repeatable).
        #[arg(long = "role", required = true)]
        roles: Vec<Role>,
        /// Who the token names (an id, not a name: it is written to the audit trail).
        #[arg(long)]
        subject: String,
        #[arg(long, default_value_t = 60)]
        valid_minutes: u64,
    },
    /// Run one service from its configuration (TOML file, then RAPPORT_ environment variables).
    Serve {
        service: ServiceName,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Apply pending database migrations and exit (all services unless one is named).
    Migrate {
        service: Option<ServiceName>,
        /// Configuration of the named service (each service has its own database).
        #[arg(long, requires = "service")]
        config: Option<PathBuf>,
    },
    /// Customers, for an agent: `rapport customer find NAME`, `rapport customer show NAME|ID`.
    Customer {
        #[command(subcommand)]
        command: CustomerCommand,
        /// The running suite.
        #[arg(long, env = "RAPPORT_ADDRESS", default_value = agent::DEFAULT_ADDRESS, global = true)]
        address: String,
        #[command(flatten)]
        credentials: CredentialArgs,
        /// How to print the answer.
        #[arg(long, value_enum, default_value_t = agent::Output::Text, global = true)]
        output: agent::Output,
    },
    /// Payment plans, for an agent with the customer on the line.
    Plans {
        #[command(subcommand)]
        command: PlansCommand,
        #[arg(long, env = "RAPPORT_ADDRESS", default_value = agent::DEFAULT_ADDRESS, global = true)]
        address: String,
        #[command(flatten)]
        credentials: CredentialArgs,
        /// How to print the answer.
        #[arg(long, value_enum, default_value_t = agent::Output::Text, global = true)]
        output: agent::Output,
    },
    /// Loyalty scores and the closed loop's follow-ups.
    Loyalty {
        #[command(subcommand)]
        command: LoyaltyCommand,
        #[arg(long, env = "RAPPORT_ADDRESS", default_value = agent::DEFAULT_ADDRESS, global = true)]
        address: String,
        #[command(flatten)]
        credentials: CredentialArgs,
        /// How to print the answer.
        #[arg(long, value_enum, default_value_t = agent::Output::Text, global = true)]
        output: agent::Output,
    },
    /// Snapshot SQLite databases online (the suite keeps serving) into DIR, a new directory,
    /// with a manifest. PostgreSQL: see deploy/RUNBOOK.md, "Backups and restore".
    Backup {
        /// Where the backup goes; a directory that already holds one is refused.
        dir: PathBuf,
        /// The `rapport dev` data directory whose four databases are copied.
        #[arg(long, default_value = dev::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
        /// Copy one service's database instead, from its `rapport serve` configuration.
        #[arg(long, conflicts_with = "data_dir")]
        service: Option<ServiceName>,
        /// The configuration of `--service` (its `storage.url` must be sqlite://).
        #[arg(long, requires = "service")]
        config: Option<PathBuf>,
    },
    /// Bring a backup (from `rapport backup`) back into a data directory; refused while a suite
    /// uses it.
    Restore {
        /// The backup directory.
        dir: PathBuf,
        /// The data directory to restore into (created if missing; its databases are replaced).
        #[arg(long)]
        data_dir: PathBuf,
    },
    /// Check SQLite databases for damage (the full integrity check): the dev suite's files under
    /// --data-dir, or one service's file from its configuration. One line per file; exits 1 when
    /// any is damaged.
    Check {
        /// The dev suite's data directory (profiles.db, plans.db, referrals.db, loyalty.db).
        #[arg(long, default_value = dev::DEFAULT_DATA_DIR, conflicts_with = "service")]
        data_dir: PathBuf,
        /// A served service: check the SQLite file its configuration names.
        #[arg(long)]
        service: Option<ServiceName>,
        /// Configuration of that service (TOML file, then RAPPORT_ environment variables).
        #[arg(long, requires = "service")]
        config: Option<PathBuf>,
    },
    /// Rescore every customer's loyalty now (a nightly job: scores decay, risks surface).
    Rescore {
        /// The loyalty service's configuration (its database and score model).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// For a secured suite: the agent's token, and TLS (an `https://` address).
#[derive(Debug, clap::Args)]
struct CredentialArgs {
    /// The agent's bearer token (e.g. from `rapport token`).
    #[arg(long, env = "RAPPORT_TOKEN", hide_env_values = true, global = true)]
    token: Option<String>,
    /// The CA of the suite's certificate.
    #[arg(long, env = "RAPPORT_CA_FILE", global = true)]
    ca_file: Option<PathBuf>,
    /// A client certificate and key, for a suite that asks for one (mutual TLS).
    #[arg(long, env = "RAPPORT_CERT_FILE", global = true)]
    cert_file: Option<PathBuf>,
    #[arg(long, env = "RAPPORT_KEY_FILE", global = true)]
    key_file: Option<PathBuf>,
    /// The name in the suite's certificate, when it is not the address's host.
    #[arg(long, env = "RAPPORT_TLS_DOMAIN", global = true)]
    tls_domain: Option<String>,
}

impl CredentialArgs {
    fn into_credentials(self) -> agent::Credentials {
        agent::Credentials {
            token: self.token,
            tls: rapport_clients::ClientSettings {
                ca_file: self.ca_file,
                certificate_file: self.cert_file,
                key_file: self.key_file,
                domain_name: self.tls_domain,
                token_file: None,
            },
        }
    }
}

#[derive(Debug, Subcommand)]
enum ClockCommand {
    /// The business time and speed.
    Show,
    /// Move forward by a duration: `31d`, `36h`, `2h 30m`, `1 week` (days of 24 hours).
    Advance { by: String },
    /// Jump forward to an RFC 3339 instant.
    Set { to: String },
    /// Run at this many business seconds per real second (0 = stopped).
    Speed { speed: f64 },
}

#[derive(Debug, Subcommand)]
enum CustomerCommand {
    /// Customers whose name matches, ignoring case and diacritics ("stefan" finds "Ștefan").
    Find { name: String },
    /// One customer's overview, in the order an agent needs it: who, may we call now, next
    /// best action, protections, accounts, hardship, plans, promises, loyalty, follow-ups,
    /// commitments, referrals and trust. By id, or by a name that matches exactly one customer
    /// (several are listed, to pick one by id).
    Show {
        /// A customer id, or a name (case and diacritics ignored).
        customer: String,
    },
}

#[derive(Debug, Subcommand)]
enum PlansCommand {
    /// The ranked, affordable options for an account in hardship.
    Options {
        #[arg(long)]
        account: String,
        /// The hardship case with the income and expenditure; the account's open case when
        /// left out.
        #[arg(long = "case")]
        case_id: Option<String>,
        /// The customer's payday (1–31); 0 = the account's due day.
        #[arg(long, default_value_t = 0)]
        payday: i32,
    },
    /// Accept the option the customer chose.
    Accept {
        #[arg(long)]
        account: String,
        #[arg(long = "case")]
        case_id: String,
        #[arg(long)]
        option: String,
        /// The agent taking the customer's agreement.
        #[arg(long)]
        agent: String,
        /// The call recording (or document) that evidences the agreement.
        #[arg(long, default_value = "")]
        evidence: String,
    },
}

#[derive(Debug, Subcommand)]
enum LoyaltyCommand {
    /// The customer's loyalty score with every point explained.
    Score { customer: String },
    /// Open detractor follow-ups (or only the overdue ones).
    FollowUps {
        #[arg(long)]
        overdue: bool,
        #[arg(long, default_value = "")]
        owner: String,
    },
}

/// Prints a command's table (its output is the point of the command), or why it was refused,
/// plainly, with exit status 1.
#[allow(clippy::print_stdout, clippy::print_stderr)]
fn print(answer: anyhow::Result<String>) -> std::process::ExitCode {
    match answer {
        Ok(text) => {
            print!("{text}");
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// A failure ends with one line holding its whole cause chain (e.g. the damaged file and
/// SQLite's words), so the last line of stderr says what went wrong, not a backtrace.
#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(code) => code,
        Err(error) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("error: {}", causes(&error));
            }
            std::process::ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, leaving out a cause its error already quotes (sqlx's
/// "error returned from database: X" is followed by X itself).
fn causes(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !line.ends_with(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line
}

async fn run() -> anyhow::Result<std::process::ExitCode> {
    match Cli::parse().command {
        Command::Dev {
            listen,
            admin_listen,
            data_dir,
            demo,
            secure,
            clock,
            clock_speed,
            desk_budget_ms,
            console_listen,
        } => {
            let _telemetry = rapport_telemetry::init(&TelemetrySettings {
                service_name: "rapport-dev".to_owned(),
                ..TelemetrySettings::default()
            })?;
            let material = secure
                .as_deref()
                .map(rapport_security::dev::DevMaterial::ensure)
                .transpose()?;
            let business_clock = if clock.is_some() || clock_speed.is_some() {
                let movable = rapport_clock::MovableClock::new(
                    std::sync::Arc::new(rapport_clock::SystemClock),
                    clock,
                    clock_speed.unwrap_or(1.0),
                )
                .context("--clock-speed")?;
                Some(std::sync::Arc::new(movable))
            } else {
                None
            };
            let suite = dev::build_with_options(
                listen,
                Some(admin_listen),
                &data_dir,
                material.as_ref(),
                business_clock,
                &dev::DeskOptions {
                    budget: std::time::Duration::from_millis(desk_budget_ms),
                    console_listen: Some(console_listen),
                },
            )
            .await?;
            #[allow(clippy::print_stdout)] // the command's own output
            {
                print!("{}", suite.banner());
            }
            if demo {
                let (url, credentials) =
                    rapport::demo::target(suite.application.local_addr(), suite.security.as_ref())?;
                let dir = data_dir.clone();
                tokio::spawn(async move {
                    #[allow(clippy::print_stdout, clippy::print_stderr)]
                    match rapport::demo::seed_when_ready_with(&url, &credentials, &dir).await {
                        Ok(Some(seeded)) => println!("{seeded}"),
                        Ok(None) => println!("demo data: already in {}", dir.display()),
                        Err(error) => eprintln!("demo data could not be seeded: {error:#}"),
                    }
                });
            }
            suite
                .application
                .run_until_stopped(rapport_server::shutdown_signal())
                .await?;
        }
        Command::Token {
            secret_file,
            roles,
            subject,
            valid_minutes,
        } => {
            let secret = rapport_security::token::read_secret(&secret_file)?;
            let token = rapport_security::dev::mint_hs256(
                &secret,
                &subject,
                &roles,
                std::time::Duration::from_secs(valid_minutes * 60),
            )?;
            #[allow(clippy::print_stdout)] // the command's own output
            {
                println!("{token}");
            }
        }
        Command::Clock { command, admin } => {
            use rapport::business_clock::{Move, send};
            let r#move = match command {
                ClockCommand::Show => Move::Show,
                ClockCommand::Advance { by } => Move::Advance(by),
                ClockCommand::Set { to } => Move::Set(to),
                ClockCommand::Speed { speed } => Move::Speed(speed),
            };
            return Ok(print(send(&admin, &r#move).await));
        }
        Command::Serve { service, config } => service::serve(service, config.as_deref()).await?,
        Command::Migrate { service, config } => {
            let _telemetry = rapport_telemetry::init(&TelemetrySettings::default())?;
            let services = service.map_or(ServiceName::ALL.to_vec(), |one| vec![one]);
            for service in services {
                service::migrate(service, config.as_deref()).await?;
                #[allow(clippy::print_stdout)]
                {
                    if service.keeps_data() {
                        println!("{service:?}: migrated");
                    } else {
                        println!("{service:?}: keeps no data, nothing to migrate");
                    }
                }
            }
        }
        Command::Customer {
            command,
            address,
            credentials,
            output,
        } => {
            let answer = async {
                let connection =
                    agent::connect_with(&address, &credentials.into_credentials()).await?;
                match command {
                    CustomerCommand::Find { name } => {
                        agent::customer_find_as(connection, &name, output).await
                    }
                    CustomerCommand::Show { customer } => {
                        agent::customer_show(connection, &customer, output).await
                    }
                }
            };
            return Ok(print(answer.await));
        }
        Command::Plans {
            command,
            address,
            credentials,
            output,
        } => {
            let answer = async {
                let connection =
                    agent::connect_with(&address, &credentials.into_credentials()).await?;
                match command {
                    PlansCommand::Options {
                        account,
                        case_id,
                        payday,
                    } => {
                        let case_id = case_id.unwrap_or_default();
                        agent::plan_options_as(connection, &account, &case_id, payday, output).await
                    }
                    PlansCommand::Accept {
                        account,
                        case_id,
                        option,
                        agent: agent_id,
                        evidence,
                    } => {
                        agent::plan_accept_as(
                            connection, &account, &case_id, &option, &agent_id, &evidence, output,
                        )
                        .await
                    }
                }
            };
            return Ok(print(answer.await));
        }
        Command::Loyalty {
            command,
            address,
            credentials,
            output,
        } => {
            let answer = async {
                let connection =
                    agent::connect_with(&address, &credentials.into_credentials()).await?;
                match command {
                    LoyaltyCommand::Score { customer } => {
                        agent::loyalty_score_as(connection, &customer, output).await
                    }
                    LoyaltyCommand::FollowUps { overdue, owner } => {
                        agent::follow_ups_as(connection, overdue, &owner, output).await
                    }
                }
            };
            return Ok(print(answer.await));
        }
        Command::Backup {
            dir,
            data_dir,
            service,
            config,
        } => {
            use rapport::backup;
            let answer = async {
                let databases = match service {
                    Some(service) => vec![backup::served_database(service, config.as_deref())?],
                    None => backup::dev_databases(&data_dir),
                };
                backup::backup(&databases, &dir).await
            };
            return Ok(print(answer.await));
        }
        Command::Restore { dir, data_dir } => {
            return Ok(print(rapport::backup::restore(&dir, &data_dir).await));
        }
        Command::Check {
            data_dir,
            service,
            config,
        } => {
            let checked = match service {
                Some(service) => check::served_service(service, config.as_deref()).await?,
                None => check::dev_suite(&data_dir).await,
            };
            #[allow(clippy::print_stdout)] // the command's own output
            {
                print!("{}", checked.report);
            }
            return Ok(checked.exit_code());
        }
        Command::Rescore { config } => {
            let report = service::rescore(config.as_deref()).await?;
            #[allow(clippy::print_stdout)]
            {
                println!(
                    "rescored {} customers ({} unchanged, {} signals) in {:.1} s",
                    report.customers, report.unchanged, report.signals, report.seconds
                );
            }
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn every_agent_command_takes_output_json_after_its_arguments() {
        for args in [
            &["rapport", "customer", "find", "garcia", "--output", "json"][..],
            &["rapport", "customer", "show", "garcia", "--output", "json"],
            &[
                "rapport",
                "plans",
                "options",
                "--account",
                "A",
                "--output",
                "json",
            ],
            &[
                "rapport",
                "plans",
                "accept",
                "--account",
                "A",
                "--case",
                "C",
                "--option",
                "O",
                "--agent",
                "G",
                "--output",
                "json",
            ],
            &["rapport", "loyalty", "score", "C", "--output", "json"],
            &["rapport", "loyalty", "follow-ups", "--output", "json"],
        ] {
            let parsed = Cli::try_parse_from(args);
            let output = match &parsed {
                Ok(Cli {
                    command:
                        Command::Customer { output, .. }
                        | Command::Plans { output, .. }
                        | Command::Loyalty { output, .. },
                }) => Some(*output),
                _ => None,
            };
            assert_eq!(output, Some(agent::Output::Json), "{args:?}: {parsed:?}");
        }
        let parsed = Cli::try_parse_from(["rapport", "customer", "show", "garcia"]);
        assert!(
            matches!(
                parsed,
                Ok(Cli {
                    command: Command::Customer {
                        output: agent::Output::Text,
                        ..
                    }
                })
            ),
            "text by default: {parsed:?}"
        );
    }

    #[test]
    fn a_secured_dev_suite_may_seed_the_demo() {
        let parsed = Cli::try_parse_from(["rapport", "dev", "--secure", "dev-keys", "--demo"]);
        assert!(
            matches!(
                parsed,
                Ok(Cli {
                    command: Command::Dev {
                        demo: true,
                        secure: Some(_),
                        ..
                    }
                })
            ),
            "{parsed:?}"
        );
    }
}
