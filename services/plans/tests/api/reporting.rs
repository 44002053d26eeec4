//! ReportingService: recovered vs write-off, cure rate, plan survival, vulnerable vs others.

use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;

use crate::support::{agent, create_customer, date, money, start, upsert_for, violated_fields};

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
    // 10 % of what was owed on delinquent accounts: (200 000 + 90 000 + 10 000) × 0.10
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

backend_tests!(the_report_compares_recovery_with_write_off_and_cohorts);
