//! The harness for end-to-end tests: the whole suite, exactly as `rapport dev` assembles it, on a
//! free port with fresh databases, reached through real gRPC channels.

use std::net::SocketAddr;

use rapport::dev;
use rapport_server::ServerError;
use rapport_server::testing::TestServer;
use tonic::transport::Channel;

/// A running suite; [`Suite::stop`] shuts it down gracefully.
#[derive(Debug)]
pub struct Suite {
    pub channel: Channel,
    /// `http://…` of the suite, as the agent's command line takes it.
    pub url: String,
    pub services: Vec<dev::DevService>,
    /// The admin port (metrics, `/livez`, `/readyz`, plaintext health).
    pub admin: Option<SocketAddr>,
    server: TestServer,
    _data: tempfile::TempDir,
}

impl Suite {
    /// Starts the suite and waits (by watching health, not by sleeping) until it serves.
    ///
    /// # Panics
    /// If the suite cannot start.
    pub async fn start() -> Self {
        let data = tempfile::tempdir().expect("data directory");
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let suite = dev::build(loopback, Some(loopback), data.path())
            .await
            .expect("the suite builds");
        let services = suite.services.clone();
        let server = TestServer::run(suite.application).await;
        Self {
            channel: server.channel.clone(),
            url: format!("http://{}", server.address),
            admin: server.admin,
            services,
            server,
            _data: data,
        }
    }

    /// Signals shutdown and waits for the server to finish.
    pub async fn stop(self) -> Result<(), ServerError> {
        self.server.stop().await
    }
}

/// Hardship set-ups the journeys and the agent's tests share, through the traced clients an
/// agent's tools use.
pub mod hardship {
    use rapport::agent::Connection;
    use rapport_proto::common::v1 as common;
    use rapport_proto::plans::v1 as plans;
    use rapport_proto::plans::v1::account_service_client::AccountServiceClient;
    use rapport_proto::plans::v1::hardship_service_client::HardshipServiceClient;

    pub fn gbp(minor_units: i64) -> Option<common::Money> {
        Some(common::Money {
            currency_code: "GBP".into(),
            minor_units,
        })
    }

    pub fn agent(id: &str) -> Option<common::Actor> {
        Some(common::Actor {
            kind: common::ActorKind::Agent as i32,
            id: id.into(),
        })
    }

    /// A GBP credit card of £1,200 with £100 a month due on the 10th, `days_late` behind with
    /// £200: its account id.
    ///
    /// # Panics
    /// When plans refuses: a journey cannot go on without it.
    pub async fn account_behind(
        connection: &Connection,
        customer_id: &str,
        external_id: &str,
        days_late: i32,
    ) -> String {
        let mut accounts = AccountServiceClient::new(connection.clone());
        let account = accounts
            .upsert_account(plans::UpsertAccountRequest {
                source_system: "cards".into(),
                external_account_id: external_id.into(),
                customer_id: customer_id.into(),
                kind: plans::AccountKind::CreditCard as i32,
                currency_code: "GBP".into(),
                balance: gbp(120_000),
                contractual_payment: gbp(10_000),
                annual_rate: "0.199".into(),
                due_day: 10,
                remaining_term_months: 0,
                jurisdiction: "GB".into(),
                as_of: None,
            })
            .await
            .expect("the account")
            .into_inner()
            .account
            .expect("the account")
            .account_id;
        accounts
            .report_arrears(plans::ReportArrearsRequest {
                account_id: account.clone(),
                days_past_due: days_late,
                arrears_amount: gbp(20_000),
                as_of: None,
            })
            .await
            .expect("arrears");
        account
    }

    /// An agent opens a hardship case on the account and records income and expenditure
    /// (£1,500 earnings, £900 home, £300 food: £300 a month to spare): the case id.
    ///
    /// # Panics
    /// When plans refuses.
    pub async fn case_with_statement(
        connection: &Connection,
        customer_id: &str,
        account_id: &str,
    ) -> String {
        let mut hardship = HardshipServiceClient::new(connection.clone());
        let case = hardship
            .open_hardship_case(plans::OpenHardshipCaseRequest {
                customer_id: customer_id.into(),
                account_ids: vec![account_id.into()],
                reason: plans::HardshipReason::JobLoss as i32,
                reason_detail: String::new(),
                opened_by: agent("agent-5"),
                request_id: String::new(),
            })
            .await
            .expect("the case")
            .into_inner()
            .hardship_case
            .expect("the case")
            .case_id;
        let line = |amount| gbp(amount);
        hardship
            .submit_income_expenditure(plans::SubmitIncomeExpenditureRequest {
                case_id: case.clone(),
                income_expenditure: Some(plans::IncomeExpenditure {
                    household: Some(plans::Household {
                        adults: 1,
                        children: 0,
                        vehicles: 0,
                    }),
                    income: vec![plans::IncomeLine {
                        category: plans::IncomeCategory::Earnings as i32,
                        description: String::new(),
                        monthly_amount: line(150_000),
                    }],
                    fixed_costs: vec![plans::FixedCostLine {
                        category: plans::FixedCostCategory::HomeAndContents as i32,
                        description: String::new(),
                        monthly_amount: line(90_000),
                    }],
                    flexible_costs: vec![plans::FlexibleCostLine {
                        category: plans::FlexibleCostCategory::FoodAndHousekeeping as i32,
                        description: String::new(),
                        monthly_amount: line(30_000),
                    }],
                    ..Default::default()
                }),
                submitted_by: agent("agent-5"),
            })
            .await
            .expect("income and expenditure");
        case
    }
}
