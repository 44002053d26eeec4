//! `rapport plans options` and `rapport plans accept`: the agent with the customer on the line.

use anyhow::Context;
use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as plans;
use rapport_proto::plans::v1::account_service_client::AccountServiceClient;
use rapport_proto::plans::v1::plan_service_client::PlanServiceClient;

use super::format::{date, money, short, table, words};
use super::{Connection, Names, Output, refused, to_json};

/// `rapport plans options --account A --case C`: the ranked options, with what an agent reads
/// aloud.
pub async fn plan_options(
    connection: Connection,
    account_id: &str,
    case_id: &str,
    payday: i32,
) -> anyhow::Result<String> {
    plan_options_as(connection, account_id, case_id, payday, Output::Text).await
}

/// As [`plan_options`]; an empty `case_id` is the account's open hardship case. The text starts
/// with whose account it is and what the account owes.
pub async fn plan_options_as(
    connection: Connection,
    account_id: &str,
    case_id: &str,
    payday: i32,
    output: Output,
) -> anyhow::Result<String> {
    let account_ask = || async {
        AccountServiceClient::new(connection.clone())
            .get_account(plans::GetAccountRequest {
                account_id: account_id.to_owned(),
            })
            .await
            .map(|a| a.into_inner().account)
    };
    let (account, case_id) = if case_id.is_empty() {
        let account = account_ask()
            .await
            .map_err(refused)?
            .context("plans answered without an account")?;
        anyhow::ensure!(
            !account.open_hardship_case_id.is_empty(),
            "Account {account_id} has no open hardship case: open one (and take the customer's \
             income and expenditure) first, or name a case with --case"
        );
        let case_id = account.open_hardship_case_id.clone();
        (Some(account), case_id)
    } else {
        (None, case_id.to_owned())
    };
    let options_ask = async {
        PlanServiceClient::new(connection.clone())
            .get_plan_options(plans::GetPlanOptionsRequest {
                account_id: account_id.to_owned(),
                case_id: case_id.clone(),
                payday,
                locale: String::new(),
            })
            .await
            .map_err(refused)
    };
    let (answer, account) = match account {
        Some(account) => (options_ask.await?.into_inner(), Some(account)),
        None => {
            // The options' refusal is the one to show; the account only heads the answer.
            let (answer, account) = tokio::join!(options_ask, account_ask());
            (answer?.into_inner(), account.ok().flatten())
        }
    };
    if output == Output::Json {
        return to_json(&answer, "rapport.plans.v1.GetPlanOptionsResponse");
    }

    let mut out = String::new();
    if let Some(account) = &account {
        let mut names = Names::default();
        names
            .learn(&connection, [account.customer_id.as_str()])
            .await;
        out.push_str(&format!("{}\n", names.with_id(&account.customer_id)));
        out.push_str(&format!("{}\n", account_line(account)));
    }
    out.push_str(&format!(
        "Hardship case {case_id}: disposable income {} a month\n\n",
        money(
            answer
                .affordability
                .as_ref()
                .and_then(|a| a.disposable_income.as_ref())
        )
    ));
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
    out.push_str(&table(
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
    ));
    out.push_str(&format!(
        "Write-off would recover {}.\n\n",
        money(answer.write_off_baseline.as_ref())
    ));
    for o in &answer.options {
        out.push_str(&format!("{}. {}\n", o.rank, o.summary));
    }
    Ok(out)
}

/// "Credit card DEMO-1 (demo-cards), account 0190…: balance RON 8500.00; RON 1200.00 in
/// arrears, 35 days past due (mid)".
fn account_line(a: &plans::Account) -> String {
    let mut line = format!(
        "{} {} ({}), account {}: balance {}",
        capitalised(&words(a.kind().as_str_name(), "ACCOUNT_KIND_")),
        a.external_account_id,
        a.source_system,
        a.account_id,
        money(a.balance.as_ref()),
    );
    if a.days_past_due > 0 {
        line.push_str(&format!(
            "; {} in arrears, {} days past due ({})",
            money(a.arrears_amount.as_ref()),
            a.days_past_due,
            words(a.stage().as_str_name(), "DELINQUENCY_STAGE_"),
        ));
    }
    if a.payment_demands_blocked {
        line.push_str("; PROTECTED: no payment demands");
    }
    line
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or(String::new(), |first| {
        first.to_uppercase().chain(chars).collect()
    })
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
    plan_accept_as(
        connection,
        account_id,
        case_id,
        option_id,
        agent_id,
        evidence,
        Output::Text,
    )
    .await
}

pub async fn plan_accept_as(
    connection: Connection,
    account_id: &str,
    case_id: &str,
    option_id: &str,
    agent_id: &str,
    evidence: &str,
    output: Output,
) -> anyhow::Result<String> {
    let answer = PlanServiceClient::new(connection.clone())
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
        .into_inner();
    if output == Output::Json {
        return to_json(&answer, "rapport.plans.v1.AcceptPlanResponse");
    }
    let plan = answer.plan.context("plans answered without a plan")?;
    let mut names = Names::default();
    names.learn(&connection, [plan.customer_id.as_str()]).await;
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
    out.push_str(&format!(
        "For {}, account {}.\n",
        names.with_id(&plan.customer_id),
        plan.account_id
    ));
    out.push_str(&table(&["#", "DUE", "AMOUNT"], &rows));
    if plan.schedule.len() > 6 {
        out.push_str(&format!("… {} installments in all\n", plan.schedule.len()));
    }
    Ok(out)
}
