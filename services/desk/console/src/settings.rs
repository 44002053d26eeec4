use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `rapport dev`'s address: every service of the suite behind one port.
const DEFAULT_URL: &str = "http://127.0.0.1:50051";

/// How the console reaches the suite and how it treats its agents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleSettings {
    /// `rapport.desk.v1.DeskService` (the overview).
    pub desk_url: String,
    /// `rapport.profiles.v1.ProfileService` (search, names).
    pub profiles_url: String,
    /// `rapport.plans.v1` (accounts, hardship, options, plans, promises).
    pub plans_url: String,
    /// `rapport.loyalty.v1.LoyaltyService` (follow-ups).
    pub loyalty_url: String,
    /// TLS to the suite (CA, the console's client certificate). Its `token_file` is never used:
    /// every call carries the signed-in agent's own token.
    pub client: rapport_clients::ClientSettings,
    /// Every page needs the agent's bearer token (production, `rapport dev --secure`). Off:
    /// calls go without a token and a development banner says so.
    pub require_token: bool,
    /// Serve HTTPS with this certificate and key (production: the service's own `server.tls`
    /// certificate). Implies `secure_cookie`.
    pub tls: Option<crate::ConsoleTls>,
    /// The session cookie gets `Secure`: set when agents reach the console over HTTPS, whether
    /// the console serves it (`tls`) or an ingress in front of it terminates it.
    pub secure_cookie: bool,
    /// Each gRPC call's deadline, in milliseconds.
    pub call_deadline_ms: u64,
    /// The debt-advice directory plans is configured with (`plans.rules.debt_advice`): no RPC
    /// lists it, so the console is told it. Defaults to plans' default directory.
    pub debt_advice: Vec<DebtAdviceChoice>,
}

/// One service of the debt-advice directory, as offered in the referral form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebtAdviceChoice {
    pub service_id: String,
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub jurisdiction: String,
}

impl DebtAdviceChoice {
    fn new(service_id: &str, name: &str, jurisdiction: &str) -> Self {
        Self {
            service_id: service_id.to_owned(),
            name: name.to_owned(),
            jurisdiction: jurisdiction.to_owned(),
        }
    }
}

/// Plans' default directory (`rapport_plans::Rules::default().debt_advice`).
pub fn default_debt_advice() -> Vec<DebtAdviceChoice> {
    vec![
        DebtAdviceChoice::new("stepchange", "StepChange Debt Charity", "GB"),
        DebtAdviceChoice::new("national-debtline", "National Debtline", "GB"),
        DebtAdviceChoice::new("mabs", "MABS (Money Advice and Budgeting Service)", "IE"),
        DebtAdviceChoice::new("nfcc", "National Foundation for Credit Counseling", "US"),
    ]
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        Self::for_suite(
            DEFAULT_URL,
            rapport_clients::ClientSettings::default(),
            false,
        )
    }
}

impl ConsoleSettings {
    /// Every service at one address (`rapport dev`).
    pub fn for_suite(
        suite_url: &str,
        client: rapport_clients::ClientSettings,
        require_token: bool,
    ) -> Self {
        Self {
            desk_url: suite_url.to_owned(),
            profiles_url: suite_url.to_owned(),
            plans_url: suite_url.to_owned(),
            loyalty_url: suite_url.to_owned(),
            client,
            require_token,
            tls: None,
            secure_cookie: false,
            call_deadline_ms: 5_000,
            debt_advice: default_debt_advice(),
        }
    }

    pub fn call_deadline(&self) -> Duration {
        Duration::from_millis(self.call_deadline_ms)
    }
}
