//! The agent's and operator's command line: `rapport customer find`, `rapport plans options`,
//! `rapport plans accept`, `rapport loyalty score`, `rapport loyalty follow-ups`. Each talks to a
//! running suite through the generated clients (with the trace layer) and prints a readable table;
//! a refused call prints its gRPC code, the fields at fault and why.

use anyhow::Context;
use rapport_clients::{BearerService, ClientSettings, Upstream};
use rapport_proto::common::v1 as common;
use rapport_proto::loyalty::v1 as loyalty;
use rapport_proto::loyalty::v1::loyalty_service_client::LoyaltyServiceClient;
use rapport_proto::plans::v1 as plans;
use rapport_proto::plans::v1::plan_service_client::PlanServiceClient;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_telemetry::{ClientTraceLayer, ClientTraceService};
use tonic::transport::Channel;
use tower::ServiceBuilder;

/// The suite's address when none is given (`rapport dev`'s default).
pub const DEFAULT_ADDRESS: &str = "http://127.0.0.1:50051";

pub type Connection = ClientTraceService<BearerService<Channel>>;

/// How the agent's tools prove who they are to a secured suite: the agent's bearer token, and
/// TLS as a service's client configures it (CA, client certificate, domain name).
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub token: Option<String>,
    pub tls: ClientSettings,
}

/// A plaintext connection without a token (`rapport dev`).
pub async fn connect(address: &str) -> anyhow::Result<Connection> {
    connect_with(address, &Credentials::default()).await
}

pub async fn connect_with(address: &str, credentials: &Credentials) -> anyhow::Result<Connection> {
    let channel = Upstream::new(address, credentials.tls.clone())
        .endpoint()
        .with_context(|| format!("{address} is not an address, or the TLS files are not usable"))?
        .connect()
        .await
        .with_context(|| format!("cannot reach the suite at {address}"))?;
    let authorised = BearerService::with_token(channel, credentials.token.as_deref())?;
    Ok(ServiceBuilder::new()
        .layer(ClientTraceLayer)
        .service(authorised))
}

/// A refused call as an agent should read it: code, message, and each field at fault.
fn refused(status: tonic::Status) -> anyhow::Error {
    use tonic_types::StatusExt;
    match status.get_error_details().bad_request() {
        Some(bad) if !bad.field_violations.is_empty() => {
            let mut text = format!("{:?}:", status.code());
            for v in &bad.field_violations {
                text.push_str(&format!("\n  {}: {}", v.field, v.description));
            }
            anyhow::Error::msg(text)
        }
        _ => anyhow::anyhow!("{:?}: {}", status.code(), status.message()),
    }
}

/// Columns padded to their widest cell, measured in terminal columns (a Chinese character takes
/// two, a combining accent none), so names in any script line up.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    use unicode_width::UnicodeWidthStr;
    let mut widths: Vec<usize> = headers.iter().map(|h| h.width()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.width());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w.saturating_sub(c.width()))))
            .collect();
        padded.join("  ").trim_end().to_owned() + "\n"
    };
    let mut out = line(headers.to_vec());
    out.push_str(&line(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    ));
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// "GBP 1234.56"; an amount in an unknown currency prints its minor units.
pub fn money(m: Option<&common::Money>) -> String {
    match m {
        None => "-".to_owned(),
        Some(m) => match rapport_money::Currency::parse(&m.currency_code) {
            Ok(currency) => format!(
                "{} {}",
                m.currency_code,
                rapport_money::Money::from_minor(currency, m.minor_units).to_decimal_string()
            ),
            Err(_) => format!("{} {} (minor units)", m.currency_code, m.minor_units),
        },
    }
}

fn date(d: Option<&common::Date>) -> String {
    d.map_or("-".to_owned(), |d| {
        format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
    })
}

fn short<T: std::fmt::Debug>(value: Option<T>) -> String {
    value.map_or("-".to_owned(), |v| format!("{v:?}"))
}

/// `rapport customer find NAME`: customers whose name matches, ignoring case and diacritics.
pub async fn customer_find(connection: Connection, name: &str) -> anyhow::Result<String> {
    let found = ProfileServiceClient::new(connection)
        .search_customers(profiles::SearchCustomersRequest {
            name: name.to_owned(),
            include_closed: true,
            ..Default::default()
        })
        .await
        .map_err(refused)?
        .into_inner();
    if found.customers.is_empty() {
        return Ok(format!("No customer matches {name:?}.\n"));
    }
    let rows: Vec<Vec<String>> = found
        .customers
        .iter()
        .map(|c| {
            vec![
                c.customer_id.clone(),
                c.legal_name.clone(),
                date(c.customer_since.as_ref()),
                short(profiles::CustomerStatus::try_from(c.status).ok()),
                c.time_zone.clone(),
            ]
        })
        .collect();
    let mut out = table(&["CUSTOMER", "NAME", "SINCE", "STATUS", "TIME ZONE"], &rows);
    if found.page.is_some_and(|p| !p.next_page_token.is_empty()) {
        out.push_str("(more match: narrow the name)\n");
    }
    Ok(out)
}

/// `rapport plans options --account A --case C`: the ranked options, with what an agent reads aloud.
pub async fn plan_options(
    connection: Connection,
    account_id: &str,
    case_id: &str,
    payday: i32,
) -> anyhow::Result<String> {
    let answer = PlanServiceClient::new(connection)
        .get_plan_options(plans::GetPlanOptionsRequest {
            account_id: account_id.to_owned(),
            case_id: case_id.to_owned(),
            payday,
            locale: String::new(),
        })
        .await
        .map_err(refused)?
        .into_inner();
    let rows: Vec<Vec<String>> = answer
        .options
        .iter()
        .map(|o| {
            vec![
                o.rank.to_string(),
                short(plans::PlanOptionKind::try_from(o.kind).ok()),
                money(o.monthly_amount.as_ref()),
                o.months.to_string(),
                money(o.total_payable.as_ref()),
                money(o.affordability_headroom.as_ref()),
                money(o.expected_recovery.as_ref()),
                o.option_id.clone(),
            ]
        })
        .collect();
    let mut out = table(
        &[
            "RANK",
            "KIND",
            "MONTHLY",
            "MONTHS",
            "TOTAL",
            "HEADROOM",
            "EXPECTED RECOVERY",
            "OPTION",
        ],
        &rows,
    );
    out.push_str(&format!(
        "Write-off would recover {}.\n\n",
        money(answer.write_off_baseline.as_ref())
    ));
    for o in &answer.options {
        out.push_str(&format!("{}. {}\n", o.rank, o.summary));
    }
    Ok(out)
}

/// `rapport plans accept --account A --case C --option O --agent ID`: the customer's choice,
/// agreed on a recorded call with the agent (the recording id is the evidence).
pub async fn plan_accept(
    connection: Connection,
    account_id: &str,
    case_id: &str,
    option_id: &str,
    agent_id: &str,
    evidence: &str,
) -> anyhow::Result<String> {
    let plan = PlanServiceClient::new(connection)
        .accept_plan(plans::AcceptPlanRequest {
            account_id: account_id.to_owned(),
            case_id: case_id.to_owned(),
            option_id: option_id.to_owned(),
            accepted_by: Some(common::Actor {
                kind: common::ActorKind::Agent as i32,
                id: agent_id.to_owned(),
            }),
            agreement: Some(plans::CustomerAgreement {
                method: plans::AgreementMethod::RecordedCall as i32,
                evidence_ref: evidence.to_owned(),
                agreed_at: None,
            }),
            // A retried command accepts once.
            request_id: format!("cli-accept-{option_id}"),
        })
        .await
        .map_err(refused)?
        .into_inner()
        .plan
        .context("plans answered without a plan")?;
    let rows: Vec<Vec<String>> = plan
        .schedule
        .iter()
        .take(6)
        .map(|i| {
            vec![
                i.sequence.to_string(),
                date(i.due_date.as_ref()),
                money(i.amount.as_ref()),
            ]
        })
        .collect();
    let mut out = format!(
        "Plan {} accepted: {} of {} a month, {} in all.\n",
        plan.plan_id,
        short(plans::PlanOptionKind::try_from(plan.kind).ok()),
        money(plan.monthly_amount.as_ref()),
        money(plan.total_payable.as_ref()),
    );
    out.push_str(&table(&["#", "DUE", "AMOUNT"], &rows));
    if plan.schedule.len() > 6 {
        out.push_str(&format!("… {} installments in all\n", plan.schedule.len()));
    }
    Ok(out)
}

/// `rapport loyalty score CUSTOMER`: the score, its segment and flags, and every point explained.
pub async fn loyalty_score(connection: Connection, customer_id: &str) -> anyhow::Result<String> {
    let score = LoyaltyServiceClient::new(connection)
        .get_loyalty_score(loyalty::GetLoyaltyScoreRequest {
            customer_id: customer_id.to_owned(),
            as_of: None,
        })
        .await
        .map_err(refused)?
        .into_inner()
        .score
        .context("loyalty answered without a score")?;
    let flags: Vec<String> = score
        .flags
        .iter()
        .filter_map(|f| loyalty::LoyaltyFlag::try_from(*f).ok())
        .map(|f| format!("{f:?}"))
        .collect();
    let mut out = format!(
        "Loyalty {:.1} ({:?}) — satisfaction {:.1}, involvement {:.1}, affinity {:.1}; model {}\n",
        score.loyalty,
        loyalty::LoyaltySegment::try_from(score.segment).unwrap_or_default(),
        score.satisfaction,
        score.involvement,
        score.affinity,
        score.model_version,
    );
    if !flags.is_empty() {
        out.push_str(&format!("Flags: {}\n", flags.join(", ")));
    }
    let rows: Vec<Vec<String>> = score
        .explanation
        .iter()
        .map(|c| {
            vec![
                short(loyalty::ScoreComponent::try_from(c.component).ok()),
                c.signal.clone(),
                format!("{:+.1}", c.points),
                c.description.clone(),
            ]
        })
        .collect();
    out.push_str(&table(&["COMPONENT", "SIGNAL", "POINTS", "WHY"], &rows));
    for r in &score.reasons {
        out.push_str(&format!("{}: {}\n", r.code, r.message));
    }
    Ok(out)
}

/// `rapport loyalty follow-ups [--overdue] [--owner ID]`: the closed loop's open work.
pub async fn follow_ups(
    connection: Connection,
    overdue: bool,
    owner: &str,
) -> anyhow::Result<String> {
    let listed = LoyaltyServiceClient::new(connection)
        .list_follow_ups(loyalty::ListFollowUpsRequest {
            status: if overdue {
                loyalty::FollowUpStatus::Overdue
            } else {
                loyalty::FollowUpStatus::Open
            } as i32,
            owner_id: owner.to_owned(),
            customer_id: String::new(),
            page: Some(common::PageRequest {
                page_size: 100,
                page_token: String::new(),
            }),
        })
        .await
        .map_err(refused)?
        .into_inner();
    if listed.follow_ups.is_empty() {
        return Ok("No follow-ups waiting.\n".to_owned());
    }
    let at = |t: Option<&prost_types::Timestamp>| {
        t.and_then(|t| jiff::Timestamp::new(t.seconds, t.nanos).ok())
            .map_or("-".to_owned(), |t| {
                t.strftime("%Y-%m-%d %H:%M UTC").to_string()
            })
    };
    let rows: Vec<Vec<String>> = listed
        .follow_ups
        .iter()
        .map(|f| {
            vec![
                f.follow_up_id.clone(),
                f.customer_id.clone(),
                f.nps.to_string(),
                f.owner_id.clone(),
                short(loyalty::FollowUpStatus::try_from(f.status).ok()),
                at(f.due_at.as_ref()),
            ]
        })
        .collect();
    Ok(table(
        &["FOLLOW-UP", "CUSTOMER", "NPS", "OWNER", "STATUS", "DUE"],
        &rows,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_line_up_in_any_script() {
        let out = table(
            &["NAME", "SINCE"],
            &[
                vec!["Ștefan Popescu".into(), "2019-05-01".into()],
                vec!["李雷".into(), "2020-01-01".into()],
            ],
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "NAME            SINCE");
        assert_eq!(lines[2], "Ștefan Popescu  2019-05-01");
        // Two wide characters take four columns.
        assert_eq!(lines[3], "李雷            2020-01-01");
    }

    #[test]
    fn money_prints_with_its_decimals() {
        let m = |code: &str, minor| common::Money {
            currency_code: code.into(),
            minor_units: minor,
        };
        assert_eq!(money(Some(&m("GBP", 123_456))), "GBP 1234.56");
        assert_eq!(money(Some(&m("JPY", 1_500))), "JPY 1500");
        assert_eq!(money(Some(&m("KWD", 1_234))), "KWD 1.234");
        assert_eq!(money(None), "-");
    }
}
