//! ReportingService: recovered vs write-off, cure rate, plan survival, vulnerable vs others.

use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;

use jiff::SignedDuration;
use rapport_proto::profiles::v1 as profiles;

use crate::support::{
    Plans, agent, at, create_customer, date, money, start, upsert_for, violated_fields,
};

async fn the_report_compares_recovery_with_write_off_and_cohorts(database: TestDatabase) {
    let mut plans = start(database).await;
    let vulnerable_customer = create_customer(&mut plans.profiles, "Ioana Dobre").await;
    let a = upsert_for(&vulnerable_customer, "GBP", 200_000, 10_000, "R-1");
    let a = plans
        .accounts
        .upsert_account(a)
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    let b = plans.account("GBP", 100_000, 5_000).await;
    plans.arrears(&a.account_id, 40, money("GBP", 20_000)).await;
    plans.arrears(&b.account_id, 35, money("GBP", 10_000)).await;
    plans
        .hardship
        .set_protection(pb::SetProtectionRequest {
            customer_id: vulnerable_customer.clone(),
            kind: pb::ProtectionKind::VulnerabilityHold as i32,
            reason: "recently bereaved; specialist team".into(),
            set_by: Some(agent("agent-5")),
            ..Default::default()
        })
        .await
        .unwrap();
    // B pays its arrears and is cured.
    plans
        .accounts
        .report_payment(pb::ReportPaymentRequest {
            account_id: b.account_id.clone(),
            idempotency_key: "b-1".into(),
            amount: Some(money("GBP", 10_000)),
            received_at: None,
            source_reference: String::new(),
        })
        .await
        .unwrap();

    let report = plans
        .reporting
        .get_recovery_report(pb::GetRecoveryReportRequest {
            period: Some(common::DateRange {
                start: Some(date(2026, 3, 1)),
                end: Some(date(2026, 3, 31)),
            }),
            currency_code: "GBP".into(),
            jurisdiction: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(report.recovered, Some(money("GBP", 10_000)));
    // 10 % of the balances when they became delinquent: (200 000 + 100 000) × 0.10
    assert_eq!(
        report.expected_write_off_recovery,
        Some(money("GBP", 30_000))
    );
    assert_eq!(report.delinquent_accounts, 2);
    assert_eq!(report.cured_accounts, 1);
    assert!((report.cure_rate - 0.5).abs() < 1e-9);
    let vulnerable = report.vulnerable.unwrap();
    let others = report.others.unwrap();
    assert_eq!((vulnerable.accounts, others.accounts), (1, 1));
    assert_eq!((vulnerable.cured_accounts, others.cured_accounts), (0, 1));
    assert_eq!(
        report
            .plan_survival
            .iter()
            .map(|s| s.months)
            .collect::<Vec<_>>(),
        vec![3, 6, 12]
    );

    let mixed = plans
        .reporting
        .get_recovery_report(pb::GetRecoveryReportRequest {
            period: Some(common::DateRange {
                start: Some(date(2026, 3, 31)),
                end: Some(date(2026, 3, 1)),
            }),
            currency_code: String::new(),
            jurisdiction: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&mixed), vec!["period.end", "currency_code"]);
}

/// A GBP account of `customer`, fed by billing; its id.
async fn account_of(plans: &mut Plans, customer: &str, currency: &str, balance: i64) -> String {
    let external = rapport_ids::Id::new().to_string();
    plans
        .accounts
        .upsert_account(upsert_for(customer, currency, balance, 1_000, &external))
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap()
        .account_id
}

/// Billing reports `days` past due (`amount` behind) as of `when`.
async fn behind(plans: &mut Plans, account_id: &str, days: i32, amount: i64, when: &str) {
    let currency = plans
        .get_account(account_id)
        .await
        .balance
        .unwrap()
        .currency_code;
    let answer = plans
        .accounts
        .report_arrears(pb::ReportArrearsRequest {
            account_id: account_id.into(),
            days_past_due: days,
            arrears_amount: Some(money(&currency, amount)),
            as_of: Some(at(when)),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!answer.ignored, "{answer:?}");
}

/// Billing reports money received at `when`.
async fn paid(plans: &mut Plans, account_id: &str, amount: i64, when: &str) {
    let currency = plans
        .get_account(account_id)
        .await
        .balance
        .unwrap()
        .currency_code;
    plans
        .accounts
        .report_payment(pb::ReportPaymentRequest {
            account_id: account_id.into(),
            idempotency_key: rapport_ids::Id::new().to_string(),
            amount: Some(money(&currency, amount)),
            received_at: Some(at(when)),
            source_reference: String::new(),
        })
        .await
        .unwrap();
}

async fn report(plans: &mut Plans, year: i32) -> pb::GetRecoveryReportResponse {
    plans
        .reporting
        .get_recovery_report(pb::GetRecoveryReportRequest {
            period: Some(common::DateRange {
                start: Some(date(year, 3, 1)),
                end: Some(date(year, 3, 31)),
            }),
            currency_code: "GBP".into(),
            jurisdiction: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
}

/// Issue 19: eleven accounts worked by hand. The period is March 2026 (1 March 00:00 to
/// 1 April 00:00 UTC); the write-off recovery rate is the default 0.10.
async fn the_recovery_report_counts_the_accounts_delinquent_in_the_period_and_their_money(
    database: TestDatabase,
) {
    let mut plans = start(database).await;
    // Every billing time below is in the past.
    plans.clock.advance(SignedDuration::from_hours(24 * 44)); // 15 April 2026
    let other = plans.customer_id.clone();
    let other_2 = create_customer(&mut plans.profiles, "Mihai Radu").await;
    // Vulnerable in profiles' record only.
    let recorded = create_customer(&mut plans.profiles, "Ioana Dobre").await;
    plans
        .profiles
        .set_vulnerability(profiles::SetVulnerabilityRequest {
            customer_id: recorded.clone(),
            vulnerability: Some(profiles::Vulnerability {
                factors: vec![profiles::VulnerabilityFactor {
                    driver: profiles::VulnerabilityDriver::LifeEvent as i32,
                    detail: "bereavement".into(),
                    temporary: true,
                }],
                customer_consented: true,
                ..Default::default()
            }),
            recorded_by: Some(agent("agent-5")),
        })
        .await
        .unwrap();
    // Vulnerable by plans' own hold only.
    let held = create_customer(&mut plans.profiles, "Dan Stoica").await;

    // A1 (other): behind since 10 Feb, pays 5 000 on 10 Mar, still behind.
    let a1 = account_of(&mut plans, &other, "GBP", 100_000).await;
    behind(&mut plans, &a1, 40, 10_000, "2026-02-10T09:00:00Z").await;
    paid(&mut plans, &a1, 5_000, "2026-03-10T09:00:00Z").await;
    // A2 (other): behind on 5 Mar, its 8 000 of arrears paid on 20 Mar: cured in the period.
    let a2 = account_of(&mut plans, &other, "GBP", 50_000).await;
    behind(&mut plans, &a2, 5, 8_000, "2026-03-05T09:00:00Z").await;
    paid(&mut plans, &a2, 8_000, "2026-03-20T09:00:00Z").await;
    // A3 (other): cured on 20 Feb, before the period: not in the report, nor its March money.
    let a3 = account_of(&mut plans, &other, "GBP", 40_000).await;
    behind(&mut plans, &a3, 10, 4_000, "2026-01-05T09:00:00Z").await;
    paid(&mut plans, &a3, 4_000, "2026-02-20T09:00:00Z").await;
    paid(&mut plans, &a3, 1_000, "2026-03-12T09:00:00Z").await;
    // A4 (other): never in arrears; 9 000 paid in March is not recovery.
    let a4 = account_of(&mut plans, &other, "GBP", 70_000).await;
    paid(&mut plans, &a4, 9_000, "2026-03-15T09:00:00Z").await;
    // A5 (other): behind only on 5 April, after the period.
    let a5 = account_of(&mut plans, &other, "GBP", 30_000).await;
    behind(&mut plans, &a5, 5, 3_000, "2026-04-05T09:00:00Z").await;
    // A6 (other): pays 2 000 on 20 Jan (balance 28 000), behind on 1 Feb with 28 000 owed,
    // pays 1 000 on 15 Feb (before the period) and 1 000 on 25 Mar.
    let a6 = account_of(&mut plans, &other, "GBP", 30_000).await;
    paid(&mut plans, &a6, 2_000, "2026-01-20T09:00:00Z").await;
    behind(&mut plans, &a6, 30, 3_000, "2026-02-01T09:00:00Z").await;
    paid(&mut plans, &a6, 1_000, "2026-02-15T09:00:00Z").await;
    paid(&mut plans, &a6, 1_000, "2026-03-25T09:00:00Z").await;
    // A7 (vulnerable, profiles): behind on 1 Mar, its 6 000 paid at 23:00 on 31 Mar: cured.
    let a7 = account_of(&mut plans, &recorded, "GBP", 60_000).await;
    behind(&mut plans, &a7, 1, 6_000, "2026-03-01T09:00:00Z").await;
    paid(&mut plans, &a7, 6_000, "2026-03-31T23:00:00Z").await;
    // A8 (vulnerable, hold): behind since 20 Feb, nothing paid.
    let a8 = account_of(&mut plans, &held, "GBP", 20_000).await;
    behind(&mut plans, &a8, 25, 2_000, "2026-02-20T09:00:00Z").await;
    plans
        .hardship
        .set_protection(pb::SetProtectionRequest {
            customer_id: held.clone(),
            kind: pb::ProtectionKind::VulnerabilityHold as i32,
            reason: "recently bereaved; specialist team".into(),
            set_by: Some(agent("agent-5")),
            ..Default::default()
        })
        .await
        .unwrap();
    // A9 (other 2): behind in March, but in EUR: not in a GBP report.
    let a9 = account_of(&mut plans, &other_2, "EUR", 10_000).await;
    behind(&mut plans, &a9, 5, 1_000, "2026-03-05T09:00:00Z").await;
    // A10 (other 2): behind one second before the period ends; pays 500 on 2 Apr (after it).
    let a10 = account_of(&mut plans, &other_2, "GBP", 10_000).await;
    behind(&mut plans, &a10, 1, 1_000, "2026-03-31T23:59:59Z").await;
    paid(&mut plans, &a10, 500, "2026-04-02T09:00:00Z").await;
    // A11 (vulnerable, profiles): pays 1 500 on 10 Mar (balance 13 500), behind on 12 Mar.
    let a11 = account_of(&mut plans, &recorded, "GBP", 15_000).await;
    paid(&mut plans, &a11, 1_500, "2026-03-10T09:00:00Z").await;
    behind(&mut plans, &a11, 2, 2_000, "2026-03-12T09:00:00Z").await;

    let r = report(&mut plans, 2026).await;
    let vulnerable = r.vulnerable.clone().unwrap();
    let others = r.others.clone().unwrap();
    // In the report: A1, A2, A6, A10 (others) and A7, A8, A11 (vulnerable) = 7.
    assert_eq!(r.delinquent_accounts, 7);
    assert_eq!((vulnerable.accounts, others.accounts), (3, 4));
    // Cured in March: A2 (others) and A7 (vulnerable).
    assert_eq!(r.cured_accounts, 2);
    assert_eq!((vulnerable.cured_accounts, others.cured_accounts), (1, 1));
    assert!((r.cure_rate - 2.0 / 7.0).abs() < 1e-12, "2 / 7");
    assert!((vulnerable.cure_rate - 1.0 / 3.0).abs() < 1e-12, "1 / 3");
    assert!((others.cure_rate - 1.0 / 4.0).abs() < 1e-12, "1 / 4");
    // Recovered: A1 5 000 + A2 8 000 + A6 1 000 = 14 000 (others); A7 6 000 (vulnerable);
    // A11's 1 500 came before it fell behind, A10's 500 after the period.
    assert_eq!(others.recovered, Some(money("GBP", 14_000)));
    assert_eq!(vulnerable.recovered, Some(money("GBP", 6_000)));
    assert_eq!(r.recovered, Some(money("GBP", 20_000)));
    // Balances when they fell behind: others 100 000 + 50 000 + 28 000 + 10 000 = 188 000,
    // × 0.10 = 18 800; vulnerable 60 000 + 20 000 + 13 500 = 93 500, × 0.10 = 9 350;
    // all 281 500 × 0.10 = 28 150.
    assert_eq!(
        others.expected_write_off_recovery,
        Some(money("GBP", 18_800))
    );
    assert_eq!(
        vulnerable.expected_write_off_recovery,
        Some(money("GBP", 9_350))
    );
    assert_eq!(r.expected_write_off_recovery, Some(money("GBP", 28_150)));
    // 20 000 − 28 150.
    assert_eq!(r.recovery_advantage, Some(money("GBP", -8_150)));

    // March 2020: none of these accounts was delinquent then.
    let old = report(&mut plans, 2020).await;
    assert_eq!(old.delinquent_accounts, 0);
    assert_eq!(old.recovered, Some(money("GBP", 0)));
    assert_eq!(old.expected_write_off_recovery, Some(money("GBP", 0)));
    let (v, o) = (old.vulnerable.unwrap(), old.others.unwrap());
    assert_eq!((v.accounts, o.accounts), (0, 0));
}

/// Issue 19: a billing update no newer than the one applied is answered as ignored, with its
/// reason, never silently dropped; instants are compared to the microsecond.
async fn a_billing_update_no_newer_than_the_last_is_answered_as_ignored(database: TestDatabase) {
    let mut plans = start(database).await;
    let micro = |text: &str, micros: i32| {
        let mut t = at(text);
        t.nanos = micros * 1_000;
        t
    };
    let mut first = plans.upsert("GBP", 100_000, 5_000, "S-1");
    first.as_of = Some(micro("2026-03-02T08:00:00Z", 500));
    let account = plans
        .accounts
        .upsert_account(first.clone())
        .await
        .unwrap()
        .into_inner();
    assert!(!account.ignored);
    let account_id = account.account.unwrap().account_id;

    // The same snapshot again: ignored, with why.
    let repeat = plans
        .accounts
        .upsert_account(first.clone())
        .await
        .unwrap()
        .into_inner();
    assert!(repeat.ignored);
    assert_eq!(repeat.ignored_reason.unwrap().code, "STALE_SNAPSHOT");
    // Same second, one microsecond earlier: older, ignored.
    let mut earlier = plans.upsert("GBP", 90_000, 5_000, "S-1");
    earlier.as_of = Some(micro("2026-03-02T08:00:00Z", 499));
    let earlier = plans
        .accounts
        .upsert_account(earlier)
        .await
        .unwrap()
        .into_inner();
    assert!(earlier.ignored);
    assert_eq!(
        earlier.account.unwrap().balance,
        Some(money("GBP", 100_000))
    );
    // Same second, one microsecond later: newer, applied.
    let mut later = plans.upsert("GBP", 80_000, 5_000, "S-1");
    later.as_of = Some(micro("2026-03-02T08:00:00Z", 501));
    let later = plans
        .accounts
        .upsert_account(later)
        .await
        .unwrap()
        .into_inner();
    assert!(!later.ignored && later.ignored_reason.is_none());
    assert_eq!(later.account.unwrap().balance, Some(money("GBP", 80_000)));

    let arrears = |days: i32, amount: i64, micros: i32| pb::ReportArrearsRequest {
        account_id: account_id.clone(),
        days_past_due: days,
        arrears_amount: Some(money("GBP", amount)),
        as_of: Some(micro("2026-03-02T08:30:00Z", micros)),
    };
    let applied = plans
        .accounts
        .report_arrears(arrears(30, 5_000, 200))
        .await
        .unwrap()
        .into_inner();
    assert!(!applied.ignored);
    // An older report arriving late (same second) does not cure the account, and says so.
    let stale = plans
        .accounts
        .report_arrears(arrears(0, 0, 100))
        .await
        .unwrap()
        .into_inner();
    assert!(stale.ignored);
    let reason = stale.ignored_reason.unwrap();
    assert_eq!(reason.code, "STALE_SNAPSHOT");
    assert!(reason.params.contains_key("stored_as_of"), "{reason:?}");
    assert_eq!(stale.account.unwrap().days_past_due, 30);
    let repeat = plans
        .accounts
        .report_arrears(arrears(30, 5_000, 200))
        .await
        .unwrap()
        .into_inner();
    assert!(repeat.ignored, "the same snapshot twice");
    let newer = plans
        .accounts
        .report_arrears(arrears(0, 0, 201))
        .await
        .unwrap()
        .into_inner();
    assert!(!newer.ignored);
    assert_eq!(newer.account.unwrap().days_past_due, 0);
}

backend_tests!(
    the_report_compares_recovery_with_write_off_and_cohorts,
    the_recovery_report_counts_the_accounts_delinquent_in_the_period_and_their_money,
    a_billing_update_no_newer_than_the_last_is_answered_as_ignored,
);
