//! The agent's overview (issue 24, item 5): desk's GetCustomerOverview for the demo's customers,
//! answered from all four services, by closed-loop callers (overview); and the same with loyalty
//! answering nothing at all (overview-slowed), to show the overview still comes back within
//! desk's budget with loyalty's sections UNAVAILABLE and every other section answered.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use rapport_proto::common::v1 as common;
use rapport_proto::desk::v1 as desk;
use rapport_proto::desk::v1::desk_service_client::DeskServiceClient;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tonic::transport::Channel;

use super::{Dev, Measured, first, measure, settle, verify};
use crate::Options;
use crate::load::{self, Worker};
use crate::metrics;
use crate::process::{self, Server};
use crate::report::{self, Row, mib, millis};

/// The measured method; nothing else in the suite calls it.
const METHODS: [(&str, &str, bool); 1] =
    [("rapport.desk.v1.DeskService", "GetCustomerOverview", false)];

/// desk's deadline budget (`desk.budget_ms`), set explicitly for the slowed run so the bound
/// checked below is the one desk was given.
const BUDGET: Duration = Duration::from_millis(150);
/// What the slowed overview may take beyond the budget: desk's own work, the answer's way back
/// and the scheduler on a shared core.
const BUDGET_MARGIN: Duration = Duration::from_millis(25);
/// The goal for the overview with every service answering (issue 24).
const GOAL_P99: Duration = Duration::from_millis(50);

/// The demo's customers by name (`PEOPLE` in services/rapport/src/demo.rs): found with
/// SearchCustomers, as an agent's tool would, since the demo's ids are fresh UUIDv7s each run.
const DEMO_NAMES: [&str; 11] = [
    "Ana Popescu",
    "Ștefan Ionescu",
    "Oliver Smith",
    "Siobhán Ní Bhriain",
    "José García Márquez",
    "李雷",
    "Αλέξανδρος Παπαδόπουλος",
    "Дмитрий Иванов",
    "محمد علي",
    "Emily Johnson",
    "Tomasz Wójcik",
];

/// What every answer must show, and what the answers showed.
#[derive(Debug, Default)]
struct Expectation {
    /// The service whose sections must be UNAVAILABLE (the slowed one); every other section
    /// must be OK or NOT_APPLICABLE.
    unavailable: Option<&'static str>,
    answers: AtomicU64,
    unexpected: AtomicU64,
    /// The first answer that broke the expectation, in words; and one sample of the slowed
    /// service's sections, for the log.
    first_unexpected: Mutex<Option<String>>,
    sample: Mutex<Option<String>>,
}

impl Expectation {
    fn new(unavailable: Option<&'static str>) -> Self {
        Self {
            unavailable,
            ..Self::default()
        }
    }

    fn check(&self, answer: &desk::GetCustomerOverviewResponse) {
        self.answers.fetch_add(1, Ordering::Relaxed);
        let mut problems = Vec::new();
        let mut slowed = Vec::new();
        for (section, state) in sections(answer) {
            let Some(state) = state else {
                problems.push(format!("{section}: no state"));
                continue;
            };
            let status = state.status();
            if Some(state.service.as_str()) == self.unavailable {
                slowed.push(format!("{section} {status:?} \"{}\"", state.detail));
                if status != desk::SectionStatus::Unavailable {
                    problems.push(format!(
                        "{section} ({}): {status:?}, want UNAVAILABLE",
                        state.service
                    ));
                }
            } else if !matches!(
                status,
                desk::SectionStatus::Ok | desk::SectionStatus::NotApplicable
            ) {
                problems.push(format!(
                    "{section} ({}): {status:?} \"{}\"",
                    state.service, state.detail
                ));
            }
        }
        if self.unavailable.is_some() && slowed.is_empty() {
            problems.push("no section of the slowed service".to_owned());
        }
        if !slowed.is_empty()
            && let Ok(mut sample) = self.sample.lock()
            && sample.is_none()
        {
            *sample = Some(slowed.join(", "));
        }
        if !problems.is_empty() {
            self.unexpected.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut first) = self.first_unexpected.lock()
                && first.is_none()
            {
                *first = Some(problems.join("; "));
            }
        }
    }

    /// Progress lines, and whether every answer was as expected.
    fn report(&self, what: &str) -> bool {
        let answers = self.answers.load(Ordering::Relaxed);
        let unexpected = self.unexpected.load(Ordering::Relaxed);
        if let Some(sample) = self.sample.lock().ok().and_then(|s| s.clone()) {
            report::progress(&format!("  a sample answer's slowed sections: {sample}"));
        }
        report::progress(&format!(
            "  sections: {} of {answers} answers as expected ({})",
            answers - unexpected,
            match self.unavailable {
                Some(service) => {
                    format!("{service}'s UNAVAILABLE, every other OK or NOT_APPLICABLE")
                }
                None => "every section OK or NOT_APPLICABLE".to_owned(),
            }
        ));
        if answers == 0 {
            report::not_counted(what, "no overview answered");
            return false;
        }
        if unexpected > 0 {
            let first = self
                .first_unexpected
                .lock()
                .ok()
                .and_then(|f| f.clone())
                .unwrap_or_default();
            report::not_counted(
                what,
                &format!("{unexpected} answers with unexpected sections, first: {first}"),
            );
            return false;
        }
        true
    }
}

/// Every section of an answer with its state, by the response's field names.
fn sections(
    answer: &desk::GetCustomerOverviewResponse,
) -> [(&'static str, Option<&desk::SectionState>); 12] {
    [
        (
            "customer",
            answer.customer.as_ref().and_then(|s| s.state.as_ref()),
        ),
        (
            "contact",
            answer.contact.as_ref().and_then(|s| s.state.as_ref()),
        ),
        (
            "next_best_action",
            answer
                .next_best_action
                .as_ref()
                .and_then(|s| s.state.as_ref()),
        ),
        (
            "protections",
            answer.protections.as_ref().and_then(|s| s.state.as_ref()),
        ),
        (
            "accounts",
            answer.accounts.as_ref().and_then(|s| s.state.as_ref()),
        ),
        (
            "hardship",
            answer.hardship.as_ref().and_then(|s| s.state.as_ref()),
        ),
        (
            "plans",
            answer.plans.as_ref().and_then(|s| s.state.as_ref()),
        ),
        (
            "promises",
            answer.promises.as_ref().and_then(|s| s.state.as_ref()),
        ),
        (
            "loyalty",
            answer.loyalty.as_ref().and_then(|s| s.state.as_ref()),
        ),
        (
            "follow_ups",
            answer.follow_ups.as_ref().and_then(|s| s.state.as_ref()),
        ),
        (
            "commitments",
            answer.commitments.as_ref().and_then(|s| s.state.as_ref()),
        ),
        (
            "referrals",
            answer.referrals.as_ref().and_then(|s| s.state.as_ref()),
        ),
    ]
}

/// An agent's tool: one overview after another, for the demo's customers in turn.
struct Agent {
    desk: DeskServiceClient<Channel>,
    customers: Arc<Vec<String>>,
    expectation: Arc<Expectation>,
    worker: usize,
    seq: usize,
}

impl Worker for Agent {
    async fn call(&mut self) -> (&'static str, Result<(), tonic::Status>) {
        let seq = self.seq;
        self.seq += 1;
        let customer = &self.customers[(seq * 7 + self.worker * 13) % self.customers.len()];
        let outcome = self
            .desk
            .get_customer_overview(desk::GetCustomerOverviewRequest {
                customer_id: customer.clone(),
                channel: common::Channel::Phone as i32,
            })
            .await;
        let outcome = outcome.map(|answer| self.expectation.check(answer.get_ref()));
        ("GetCustomerOverview", outcome)
    }
}

/// The demo's customers' ids, found by name.
async fn demo_customers(channel: &Channel) -> anyhow::Result<Vec<String>> {
    let mut client = ProfileServiceClient::new(channel.clone());
    let mut ids = Vec::new();
    for name in DEMO_NAMES {
        let found = client
            .search_customers(profiles::SearchCustomersRequest {
                name: name.to_owned(),
                ..Default::default()
            })
            .await
            .with_context(|| format!("searching for the demo's {name}"))?
            .into_inner()
            .customers;
        for customer in found {
            if !ids.contains(&customer.customer_id) {
                ids.push(customer.customer_id);
            }
        }
    }
    anyhow::ensure!(
        !ids.is_empty(),
        "SearchCustomers found none of the demo's customers"
    );
    Ok(ids)
}

fn agents(
    channels: &[Channel],
    clients: usize,
    customers: &Arc<Vec<String>>,
    expectation: &Arc<Expectation>,
) -> Vec<Agent> {
    (0..clients)
        .map(|worker| Agent {
            desk: DeskServiceClient::new(channels[worker % channels.len()].clone()),
            customers: customers.clone(),
            expectation: expectation.clone(),
            worker,
            seq: 0,
        })
        .collect()
}

fn row(path: String, measured: &Measured, rss: String, counted: bool) -> Row {
    let tally = measured
        .tally
        .methods
        .get("GetCustomerOverview")
        .cloned()
        .unwrap_or_default();
    Row {
        path,
        value: format!("{:.0} calls/s", measured.tally.per_second(tally.ok)),
        p50: tally.quantile(0.5).map(millis).unwrap_or_default(),
        p99: tally.quantile(0.99).map(millis).unwrap_or_default(),
        rss,
        counted,
        ..Row::default()
    }
}

/// Where an overview's time went inside the server: calls and mean server time of each method
/// in the measured window (from `/metrics`' histogram sums), slowest first.
fn inside(measured: &Measured) {
    let (Some(before), Some(after)) = (&measured.before, &measured.after) else {
        return;
    };
    let delta = |name: &str| {
        let (first, last) = (before.by_method(name), after.by_method(name));
        last.into_iter()
            .map(|(key, value)| {
                let was = first.get(&key).copied().unwrap_or_default();
                (key, value - was)
            })
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let sums = delta("rpc_server_call_duration_seconds_sum");
    let mut methods: Vec<(String, f64, f64)> = delta("rpc_server_call_duration_seconds_count")
        .into_iter()
        .filter(|(_, calls)| *calls > 0.0)
        .map(|(key, calls)| {
            let seconds = sums.get(&key).copied().unwrap_or_default();
            (key.1, calls, seconds / calls)
        })
        .collect();
    methods.sort_by(|a, b| b.2.total_cmp(&a.2));
    let listed: Vec<String> = methods
        .iter()
        .map(|(method, calls, mean)| format!("{method} {calls:.0} × {:.2} ms", mean * 1000.0))
        .collect();
    report::progress(&format!(
        "  inside the server (calls × mean server time): {}",
        listed.join(", ")
    ));
}

/// Says in the log whether the p99 met its bound (a goal, not a condition for counting).
fn goal(measured: &Measured, bound: Duration, what: &str) {
    let p99 = measured
        .tally
        .methods
        .get("GetCustomerOverview")
        .and_then(|t| t.quantile(0.99));
    if let Some(p99) = p99 {
        report::progress(&format!(
            "  goal: {what} p99 {} ≤ {}: {}",
            millis(p99),
            millis(bound),
            if p99 <= bound { "met" } else { "NOT MET" }
        ));
    }
}

/// Overviews from `rapport dev --demo`, every service answering.
pub(super) async fn overview(options: &Options) -> anyhow::Result<Vec<Row>> {
    let mut dev = Dev::start(options, true).await?;
    let channels = load::connect(dev.address, options.connections).await?;
    let customers = Arc::new(demo_customers(first(&channels)?).await?);
    settle(&mut dev.server, dev.admin).await?;
    let expectation = Arc::new(Expectation::new(None));
    report::progress(&format!(
        "  suite: {} callers, GetCustomerOverview for the demo's {} customers in turn",
        options.mixed_clients,
        customers.len()
    ));
    let workers = agents(&channels, options.mixed_clients, &customers, &expectation);
    let (_, measured) = measure(workers, options, &dev.server, Some(dev.admin)).await?;
    let matched = verify("overview", &measured, &METHODS);
    let as_expected = expectation.report("overview");
    let counted = matched && as_expected;
    inside(&measured);
    goal(&measured, GOAL_P99, "overview");
    let rss = mib(dev.server.rss()?);
    Ok(vec![row(
        format!(
            "GetCustomerOverview (rapport dev --demo, all four answering), {} callers",
            options.mixed_clients
        ),
        &measured,
        rss,
        counted,
    )])
}

/// Overviews from a `rapport serve desk` whose loyalty accepts connections and never answers:
/// the other three are the dev suite's.
pub(super) async fn slowed(options: &Options) -> anyhow::Result<Vec<Row>> {
    let mut dev = Dev::start(options, true).await?;
    let channels = load::connect(dev.address, options.connections).await?;
    let customers = Arc::new(demo_customers(first(&channels)?).await?);
    settle(&mut dev.server, dev.admin).await?;

    let (silent, _silence) = silent_service().await?;
    let address = process::free_address()?;
    let admin = process::free_address()?;
    let suite = format!("http://{}", dev.address);
    let env = [
        ("RAPPORT_SERVER__INSECURE", "true".to_owned()),
        ("RAPPORT_SERVER__LISTEN", address.to_string()),
        ("RAPPORT_SERVER__ADMIN_LISTEN", admin.to_string()),
        ("RAPPORT_DESK__PROFILES_URL", suite.clone()),
        ("RAPPORT_DESK__PLANS_URL", suite.clone()),
        ("RAPPORT_DESK__REFERRALS_URL", suite),
        ("RAPPORT_DESK__LOYALTY_URL", format!("http://{silent}")),
        ("RAPPORT_DESK__BUDGET_MS", BUDGET.as_millis().to_string()),
    ];
    let mut desk_server = Server::start(
        "rapport serve desk",
        &options.server_core,
        &options.rapport,
        &["serve", "desk"],
        &env,
        dev.file("desk.log"),
    )?;
    desk_server
        .wait_until(Duration::from_secs(60), || metrics::ready(admin))
        .await?;

    let desk_channels = load::connect(address, options.connections).await?;
    let expectation = Arc::new(Expectation::new(Some("loyalty")));
    report::progress(&format!(
        "  desk: {} callers, GetCustomerOverview for the demo's {} customers; loyalty at {silent} \
         accepts connections and never answers; budget {} ms",
        options.mixed_clients,
        customers.len(),
        BUDGET.as_millis()
    ));
    let workers = agents(
        &desk_channels,
        options.mixed_clients,
        &customers,
        &expectation,
    );
    let (_, measured) = measure(workers, options, &desk_server, Some(admin)).await?;
    let matched = verify("overview-slowed", &measured, &METHODS);
    let as_expected = expectation.report("overview-slowed");
    let counted = matched && as_expected;
    goal(
        &measured,
        BUDGET + BUDGET_MARGIN,
        "overview-slowed (budget + margin)",
    );
    let rss = format!(
        "desk {}, suite {}",
        mib(desk_server.rss()?),
        mib(dev.server.rss()?)
    );
    Ok(vec![row(
        format!(
            "GetCustomerOverview, loyalty silent (rapport serve desk, budget {} ms), {} callers",
            BUDGET.as_millis(),
            options.mixed_clients
        ),
        &measured,
        rss,
        counted,
    )])
}

/// A "loyalty" that accepts TCP connections and reads whatever comes, but never writes a byte:
/// no HTTP/2 settings, no answer. Its address, and the task holding it (dropped = closed).
async fn silent_service() -> anyhow::Result<(SocketAddr, SilentService)> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding the silent loyalty")?;
    let address = listener.local_addr()?;
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut sink = [0u8; 4096];
                while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
            });
        }
    });
    Ok((address, SilentService(task)))
}

/// Stops the silent service when dropped.
struct SilentService(tokio::task::JoinHandle<()>);

impl Drop for SilentService {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(service: &str, status: desk::SectionStatus) -> Option<desk::SectionState> {
        Some(desk::SectionState {
            status: status as i32,
            service: service.to_owned(),
            detail: String::new(),
        })
    }

    /// An answer whose loyalty sections have `loyalty`'s status and the others `others`.
    fn answer(
        loyalty_status: desk::SectionStatus,
        others: desk::SectionStatus,
    ) -> desk::GetCustomerOverviewResponse {
        desk::GetCustomerOverviewResponse {
            customer: Some(desk::CustomerSection {
                state: state("profiles", others),
                ..Default::default()
            }),
            contact: Some(desk::ContactSection {
                state: state("plans", desk::SectionStatus::NotApplicable),
                ..Default::default()
            }),
            next_best_action: Some(desk::NextBestActionSection {
                state: state("plans", others),
                ..Default::default()
            }),
            protections: Some(desk::ProtectionsSection {
                state: state("plans", others),
                ..Default::default()
            }),
            accounts: Some(desk::AccountsSection {
                state: state("plans", others),
                ..Default::default()
            }),
            hardship: Some(desk::HardshipSection {
                state: state("plans", others),
                ..Default::default()
            }),
            plans: Some(desk::PlansSection {
                state: state("plans", others),
                ..Default::default()
            }),
            promises: Some(desk::PromisesSection {
                state: state("plans", others),
                ..Default::default()
            }),
            loyalty: Some(desk::LoyaltySection {
                state: state("loyalty", loyalty_status),
                ..Default::default()
            }),
            follow_ups: Some(desk::FollowUpsSection {
                state: state("loyalty", loyalty_status),
                ..Default::default()
            }),
            commitments: Some(desk::CommitmentsSection {
                state: state("profiles", others),
                ..Default::default()
            }),
            referrals: Some(desk::ReferralsSection {
                state: state("referrals", others),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_silent_loyalty_must_leave_exactly_its_own_sections_unavailable() {
        use desk::SectionStatus::{Ok, Unavailable};
        let slowed = Expectation::new(Some("loyalty"));
        slowed.check(&answer(Unavailable, Ok));
        assert_eq!(slowed.unexpected.load(Ordering::Relaxed), 0);
        // loyalty answered after all: the run would not show what it claims.
        slowed.check(&answer(Ok, Ok));
        // another service's section lost too: not the budget holding, a second failure.
        slowed.check(&answer(Unavailable, Unavailable));
        assert_eq!(slowed.answers.load(Ordering::Relaxed), 3);
        assert_eq!(slowed.unexpected.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn with_every_service_answering_any_unavailable_or_missing_section_is_unexpected() {
        use desk::SectionStatus::{Ok, Unavailable};
        let all = Expectation::new(None);
        all.check(&answer(Ok, Ok));
        assert_eq!(all.unexpected.load(Ordering::Relaxed), 0);
        all.check(&answer(Unavailable, Ok));
        let mut missing = answer(Ok, Ok);
        missing.referrals = None;
        all.check(&missing);
        assert_eq!(all.unexpected.load(Ordering::Relaxed), 2);
        let first = all
            .first_unexpected
            .lock()
            .expect("not poisoned")
            .clone()
            .expect("the first unexpected answer is kept");
        assert!(first.contains("loyalty"), "{first}");
    }
}
