//! A call center's mix on `rapport dev --demo`: agents read customers, check whether they may
//! call, record survey answers, post payments and ask for plan options. Measured for
//! GetPlanOptions' latency and the calls per second of the whole mix (plan-options-mixed), and
//! for the server's memory over a long run (rss).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rapport_proto::common::v1 as common;
use rapport_proto::loyalty::v1 as loyalty;
use rapport_proto::loyalty::v1::loyalty_service_client::LoyaltyServiceClient;
use rapport_proto::plans::v1 as plans;
use rapport_proto::plans::v1::account_service_client::AccountServiceClient;
use rapport_proto::plans::v1::outreach_service_client::OutreachServiceClient;
use rapport_proto::plans::v1::plan_service_client::PlanServiceClient;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use tonic::transport::Channel;

use super::{Dev, Measured, first, measure, measure_paced, settle, verify};
use crate::load::{self, Worker};
use crate::report::{self, Row, mib, millis};
use crate::{Options, seed};

/// Customers, each with an account in arrears and a hardship case (beside the demo's data).
const CUSTOMERS: usize = 50;

/// The measured methods: (service, method, also called by the suite itself). Plans and loyalty
/// read customers from profiles, so the server counts more GetCustomer calls than we make.
const METHODS: [(&str, &str, bool); 5] = [
    ("rapport.profiles.v1.ProfileService", "GetCustomer", true),
    ("rapport.plans.v1.OutreachService", "CheckContact", false),
    (
        "rapport.loyalty.v1.LoyaltyService",
        "RecordSurveyResponse",
        false,
    ),
    ("rapport.plans.v1.AccountService", "ReportPayment", false),
    ("rapport.plans.v1.PlanService", "GetPlanOptions", false),
];

#[derive(Debug, Clone)]
struct Debtor {
    customer: String,
    account: String,
    case: String,
}

struct Agent {
    profiles: ProfileServiceClient<Channel>,
    outreach: OutreachServiceClient<Channel>,
    loyalty: LoyaltyServiceClient<Channel>,
    accounts: AccountServiceClient<Channel>,
    plans: PlanServiceClient<Channel>,
    debtors: Arc<Vec<Debtor>>,
    worker: usize,
    seq: usize,
}

impl Worker for Agent {
    async fn call(&mut self) -> (&'static str, Result<(), tonic::Status>) {
        let seq = self.seq;
        self.seq += 1;
        let debtor = &self.debtors[(seq * 7 + self.worker * 13) % self.debtors.len()];
        // Of every ten calls: 4 reads, 2 contact checks, 1 survey answer, 1 payment, 2 plan options.
        match seq % 10 {
            0 | 3 | 5 | 8 => {
                let outcome = self
                    .profiles
                    .get_customer(profiles::GetCustomerRequest {
                        customer_id: debtor.customer.clone(),
                        view: profiles::CustomerView::Full as i32,
                    })
                    .await;
                ("GetCustomer", outcome.map(drop))
            }
            1 | 6 => {
                let outcome = self
                    .outreach
                    .check_contact(plans::CheckContactRequest {
                        customer_id: debtor.customer.clone(),
                        account_id: debtor.account.clone(),
                        channel: if seq.is_multiple_of(2) {
                            common::Channel::Phone
                        } else {
                            common::Channel::Email
                        } as i32,
                        at: None,
                        purpose: plans::ContactPurpose::Support as i32,
                        automated: false,
                        reserve: false,
                        requested_by: seed::agent(),
                    })
                    .await;
                ("CheckContact", outcome.map(drop))
            }
            2 => {
                let outcome = self
                    .loyalty
                    .record_survey_response(loyalty::RecordSurveyResponseRequest {
                        response: Some(loyalty::SurveyResponse {
                            customer_id: debtor.customer.clone(),
                            kind: loyalty::SurveyKind::Transactional as i32,
                            nps: Some(i32::try_from(seq % 11).unwrap_or(10)),
                            touchpoint: "call_center".into(),
                            channel: common::Channel::Phone as i32,
                            locale: "en-GB".into(),
                            ..Default::default()
                        }),
                        request_id: format!("bench-survey-{}-{seq}", self.worker),
                    })
                    .await;
                ("RecordSurveyResponse", outcome.map(drop))
            }
            7 => {
                let outcome = self
                    .accounts
                    .report_payment(plans::ReportPaymentRequest {
                        account_id: debtor.account.clone(),
                        idempotency_key: format!("bench-payment-{}-{seq}", self.worker),
                        amount: seed::money(100),
                        received_at: None,
                        source_reference: String::new(),
                    })
                    .await;
                ("ReportPayment", outcome.map(drop))
            }
            _ => {
                let outcome = self
                    .plans
                    .get_plan_options(plans::GetPlanOptionsRequest {
                        account_id: debtor.account.clone(),
                        case_id: debtor.case.clone(),
                        payday: 0,
                        locale: String::new(),
                    })
                    .await;
                ("GetPlanOptions", outcome.map(drop))
            }
        }
    }
}

/// The demo suite with our debtors seeded and its outboxes empty, and the agents to load it.
async fn prepare(options: &Options, clients: usize) -> anyhow::Result<(Dev, Vec<Agent>)> {
    let mut dev = Dev::start(options, true).await?;
    let channels = load::connect(dev.address, options.connections).await?;
    let mut debtors = Vec::new();
    for n in 0..CUSTOMERS {
        let channel = first(&channels)?;
        let customer = seed::customer(channel, n).await?;
        let account = seed::account(channel, &customer, n).await?;
        let case = seed::hardship(channel, &customer, &account, n).await?;
        debtors.push(Debtor {
            customer,
            account,
            case,
        });
    }
    settle(&mut dev.server, dev.admin).await?;
    let debtors = Arc::new(debtors);
    let agents = (0..clients)
        .map(|worker| {
            let channel = channels[worker % channels.len()].clone();
            Agent {
                profiles: ProfileServiceClient::new(channel.clone()),
                outreach: OutreachServiceClient::new(channel.clone()),
                loyalty: LoyaltyServiceClient::new(channel.clone()),
                accounts: AccountServiceClient::new(channel.clone()),
                plans: PlanServiceClient::new(channel),
                debtors: debtors.clone(),
                worker,
                seq: 0,
            }
        })
        .collect();
    Ok((dev, agents))
}

fn overall_row(path: String, measured: &Measured, rss: String, counted: bool) -> Row {
    let all = measured.tally.overall();
    Row {
        path,
        value: format!("{:.0} calls/s", measured.tally.per_second(all.ok)),
        p50: all.quantile(0.5).map(millis).unwrap_or_default(),
        p99: all.quantile(0.99).map(millis).unwrap_or_default(),
        rss,
        counted,
        ..Row::default()
    }
}

/// GetPlanOptions in the mix twice on one suite: paced at `--mix-rate` calls per second (the
/// load its goal is stated at), then closed loop (as fast as the server answers: the one core is
/// saturated, and the latency is mostly queueing for it).
pub(super) async fn plan_options(options: &Options) -> anyhow::Result<Vec<Row>> {
    let (dev, agents) = prepare(options, options.mixed_clients).await?;
    let clients = options.mixed_clients.max(1);
    let pace = Duration::from_secs_f64(
        f64::from(u32::try_from(clients).unwrap_or(u32::MAX)) / f64::from(options.mix_rate.max(1)),
    );
    report::progress(&format!(
        "  suite: {clients} agents, mix of GetCustomer, CheckContact, RecordSurveyResponse, ReportPayment, GetPlanOptions; paced at {} calls/s",
        options.mix_rate
    ));
    let (agents, paced) =
        measure_paced(agents, options, &dev.server, Some(dev.admin), Some(pace)).await?;
    let paced_counted = verify("plan-options-mixed (paced)", &paced, &METHODS);
    report::progress("  the same agents, closed loop");
    let (_, closed) = measure(agents, options, &dev.server, Some(dev.admin)).await?;
    let closed_counted = verify("plan-options-mixed (closed loop)", &closed, &METHODS);
    let rss = mib(dev.server.rss()?);
    let options_row = |path: String, measured: &Measured, counted: bool| {
        let tally = measured
            .tally
            .methods
            .get("GetPlanOptions")
            .cloned()
            .unwrap_or_default();
        Row {
            path,
            value: format!("{:.0} calls/s", measured.tally.per_second(tally.ok)),
            p50: tally.quantile(0.5).map(millis).unwrap_or_default(),
            p99: tally.quantile(0.99).map(millis).unwrap_or_default(),
            rss: rss.clone(),
            counted,
            ..Row::default()
        }
    };
    Ok(vec![
        options_row(
            format!(
                "GetPlanOptions in the mix at {} calls/s (rapport dev --demo, SQLite)",
                options.mix_rate
            ),
            &paced,
            paced_counted,
        ),
        overall_row(
            format!("  the whole mix, {clients} agents, paced"),
            &paced,
            rss.clone(),
            paced_counted,
        ),
        options_row(
            "GetPlanOptions in the mix, closed loop (saturated)".into(),
            &closed,
            closed_counted,
        ),
        overall_row(
            format!("  the whole mix, {clients} agents, closed loop"),
            &closed,
            rss.clone(),
            closed_counted,
        ),
    ])
}

pub(super) async fn rss(options: &Options) -> anyhow::Result<Vec<Row>> {
    let (dev, agents) = prepare(options, options.mixed_clients).await?;
    let idle = dev.server.rss()?;
    let pid = dev.server.pid();
    report::progress(&format!(
        "  suite: steady mix for {} s, RSS sampled every second; idle {}",
        options.rss_duration,
        mib(idle)
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = tokio::spawn({
        let stop = stop.clone();
        async move {
            let mut samples = Vec::new();
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.tick().await;
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                if let Ok(rss) = crate::process::rss_of(pid) {
                    samples.push(rss);
                }
            }
            samples
        }
    });
    let long = Options {
        duration: options.rss_duration,
        ..options.clone()
    };
    let measured = measure(agents, &long, &dev.server, Some(dev.admin)).await;
    stop.store(true, Ordering::Relaxed);
    let samples = sampler.await?;
    let (_, measured) = measured?;
    let counted = verify("rss", &measured, &METHODS);
    let start = samples.first().copied().unwrap_or_default();
    let max = samples.iter().copied().max().unwrap_or_default();
    let end = samples.last().copied().unwrap_or_default();
    report::progress(&format!(
        "  RSS: idle {}, start {}, max {}, end {} ({} samples)",
        mib(idle),
        mib(start),
        mib(max),
        mib(end),
        samples.len()
    ));
    let row = overall_row(
        format!(
            "mixed load for {} s, RSS (rapport dev --demo)",
            options.rss_duration
        ),
        &measured,
        format!(
            "idle {} / start {} / max {} / end {}",
            mib(idle),
            mib(start),
            mib(max),
            mib(end)
        ),
        counted,
    );
    Ok(vec![row])
}
