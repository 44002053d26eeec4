//! AccountService: what billing tells us, idempotently.

use futures_util::future::join_all;
use rapport_proto::plans::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;
use tonic::Code;

use crate::support::{at, money, start, violated_fields};

async fn billing_upserts_accounts_by_their_source_id(database: TestDatabase) {
    let mut plans = start(database).await;
    let created = plans
        .accounts
        .upsert_account(plans.upsert("EUR", 250_000, 12_000, "C-1"))
        .await
        .unwrap()
        .into_inner();
    assert!(created.created);
    let account = created.account.unwrap();
    assert_eq!(account.stage, pb::DelinquencyStage::Current as i32);
    assert_eq!(account.annual_rate, "0.1299");
    assert_eq!(
        account.next_due_date,
        Some(crate::support::date(2026, 3, 15))
    );

    let mut newer = plans.upsert("EUR", 240_000, 12_000, "C-1");
    // A second after the first snapshot (taken now, 09:00:00): one at the same instant would be
    // answered as ignored (issue 19).
    newer.as_of = Some(at("2026-03-02T09:00:01Z"));
    let updated = plans
        .accounts
        .upsert_account(newer)
        .await
        .unwrap()
        .into_inner();
    assert!(!updated.created);
    assert_eq!(
        updated.account.as_ref().unwrap().account_id,
        account.account_id
    );
    assert_eq!(
        updated.account.unwrap().balance,
        Some(money("EUR", 240_000))
    );

    // An older snapshot arriving late does not overwrite a newer one.
    let mut stale = plans.upsert("EUR", 999_999, 12_000, "C-1");
    stale.as_of = Some(at("2026-03-01T08:00:00Z"));
    let kept = plans
        .accounts
        .upsert_account(stale)
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    assert_eq!(kept.balance, Some(money("EUR", 240_000)));

    let other_currency = plans
        .accounts
        .upsert_account(plans.upsert("GBP", 240_000, 12_000, "C-1"))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&other_currency), vec!["currency_code"]);
    assert_eq!(plans.count("SELECT COUNT(*) FROM accounts").await, 1);
}

async fn bad_account_input_names_the_field_and_changes_nothing(database: TestDatabase) {
    let mut plans = start(database).await;
    let cases: Vec<(pb::UpsertAccountRequest, Vec<&str>)> = vec![
        (
            pb::UpsertAccountRequest {
                balance: Some(money("EUR", -1)),
                ..plans.upsert("EUR", 0, 0, "X")
            },
            vec!["balance.minor_units"],
        ),
        (
            pb::UpsertAccountRequest {
                contractual_payment: Some(money("USD", 100)),
                ..plans.upsert("EUR", 100, 0, "X")
            },
            vec!["contractual_payment.currency_code"],
        ),
        (
            pb::UpsertAccountRequest {
                annual_rate: "12.99%".into(),
                due_day: 0,
                ..plans.upsert("EUR", 100, 0, "X")
            },
            vec!["annual_rate", "due_day"],
        ),
        (
            pb::UpsertAccountRequest {
                currency_code: "EURO".into(),
                ..plans.upsert("EUR", 100, 0, "X")
            },
            vec!["currency_code"],
        ),
    ];
    for (request, fields) in cases {
        let status = plans.accounts.upsert_account(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(violated_fields(&status), fields, "{status:?}");
    }
    assert_eq!(plans.count("SELECT COUNT(*) FROM accounts").await, 0);
    let unknown = plans
        .accounts
        .get_account(pb::GetAccountRequest {
            account_id: rapport_ids::Id::new().to_string(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
}

async fn arrears_set_the_stage_and_a_payment_cures_the_account(database: TestDatabase) {
    let mut plans = start(database).await;
    let account = plans.account("GBP", 300_000, 15_000).await;
    let behind = plans
        .arrears(&account.account_id, 45, money("GBP", 30_000))
        .await;
    assert_eq!(behind.stage, pb::DelinquencyStage::Mid as i32);
    assert_eq!(behind.arrears_amount, Some(money("GBP", 30_000)));

    let too_much = plans
        .accounts
        .report_arrears(pb::ReportArrearsRequest {
            account_id: account.account_id.clone(),
            days_past_due: 10,
            arrears_amount: Some(money("GBP", 300_001)),
            as_of: None,
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&too_much), vec!["arrears_amount"]);

    let pay = |key: &str, amount: i64| pb::ReportPaymentRequest {
        account_id: account.account_id.clone(),
        idempotency_key: key.into(),
        amount: Some(money("GBP", amount)),
        received_at: None,
        source_reference: "bank-transfer".into(),
    };
    let part = plans
        .accounts
        .report_payment(pay("p-1", 10_000))
        .await
        .unwrap()
        .into_inner();
    assert!(!part.replayed);
    assert_eq!(
        part.account.unwrap().arrears_amount,
        Some(money("GBP", 20_000))
    );
    let replay = plans
        .accounts
        .report_payment(pay("p-1", 10_000))
        .await
        .unwrap()
        .into_inner();
    assert!(replay.replayed);
    assert_eq!(
        replay.payment.unwrap().payment_id,
        part.payment.unwrap().payment_id
    );
    assert_eq!(
        replay.account.unwrap().arrears_amount,
        Some(money("GBP", 20_000)),
        "not applied twice"
    );
    let conflicting = plans
        .accounts
        .report_payment(pay("p-1", 99))
        .await
        .unwrap_err();
    assert_eq!(conflicting.code(), Code::AlreadyExists);

    let rest = plans
        .accounts
        .report_payment(pay("p-2", 20_000))
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    assert_eq!(
        rest.stage,
        pb::DelinquencyStage::Current as i32,
        "arrears cleared: current again"
    );
    assert_eq!(rest.balance, Some(money("GBP", 270_000)));

    let negative = plans
        .accounts
        .report_payment(pay("p-3", 0))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&negative), vec!["amount.minor_units"]);
    let wrong_currency = plans
        .accounts
        .report_payment(pb::ReportPaymentRequest {
            amount: Some(money("EUR", 100)),
            ..pay("p-4", 100)
        })
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&wrong_currency),
        vec!["amount.currency_code"]
    );
    assert_eq!(plans.count("SELECT COUNT(*) FROM payments").await, 2);
}

async fn concurrent_replays_of_one_payment_post_once(database: TestDatabase) {
    let mut plans = start(database).await;
    let account = plans.account("EUR", 100_000, 5_000).await;
    let request = pb::ReportPaymentRequest {
        account_id: account.account_id.clone(),
        idempotency_key: "bank-ref-77".into(),
        amount: Some(money("EUR", 5_000)),
        received_at: None,
        source_reference: String::new(),
    };
    let calls = (0..50).map(|_| {
        let mut client = plans.accounts.clone();
        let request = request.clone();
        async move { client.report_payment(request).await.unwrap().into_inner() }
    });
    let answers = join_all(calls).await;
    assert_eq!(answers.iter().filter(|a| !a.replayed).count(), 1);
    assert_eq!(plans.count("SELECT COUNT(*) FROM payments").await, 1);
    assert_eq!(
        plans.get_account(&account.account_id).await.balance,
        Some(money("EUR", 95_000))
    );
}

/// Issue 16: an account names a customer profiles knows; "unknown" and "profiles unreachable"
/// are told apart.
async fn an_account_for_a_customer_profiles_does_not_know_is_refused_and_nothing_is_created(
    database: TestDatabase,
) {
    let mut plans = start(database).await;
    let stranger = rapport_ids::Id::new().to_string();
    let mut request = plans.upsert("EUR", 250_000, 12_000, "C-404");
    request.customer_id = stranger.clone();
    let refused = plans.accounts.upsert_account(request).await.unwrap_err();
    assert_eq!(refused.code(), Code::NotFound, "{refused:?}");
    assert!(
        refused.message().starts_with("customer_id: customer")
            && refused.message().contains(&stranger),
        "{}",
        refused.message()
    );
    assert_eq!(plans.count("SELECT COUNT(*) FROM accounts").await, 0);
}

#[tokio::test]
async fn with_profiles_unreachable_an_unseen_customer_is_unavailable_not_unknown() {
    let database = TestDatabase::sqlite();
    let server = crate::support::with_profiles_unreachable(
        &database.settings,
        std::sync::Arc::new(rapport_clock::ManualClock::new(
            crate::support::start_instant(),
        )),
    )
    .await;
    let mut accounts =
        pb::account_service_client::AccountServiceClient::new(server.channel.clone());
    let mut request = crate::support::upsert_for(
        &rapport_ids::Id::new().to_string(),
        "EUR",
        250_000,
        12_000,
        "C-503",
    );
    request.as_of = None;
    let refused = accounts.upsert_account(request).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    assert!(refused.message().contains("retry"), "{}", refused.message());
}

/// Issue 16: a write lock held elsewhere past SQLite's busy timeout (5 s) is transient: the
/// caller gets UNAVAILABLE and may retry, not INTERNAL.
#[tokio::test]
async fn a_write_lock_held_elsewhere_is_unavailable_not_internal() {
    let mut plans = start(TestDatabase::sqlite()).await;
    let account = plans.account("EUR", 100_000, 5_000).await;
    let payment = pb::ReportPaymentRequest {
        account_id: account.account_id.clone(),
        idempotency_key: "bank-ref-locked".into(),
        amount: Some(money("EUR", 5_000)),
        received_at: None,
        source_reference: String::new(),
    };
    // Another process (here: another pool on the same file) holds the write lock.
    let elsewhere = rapport_storage::Storage::open(&plans.database.settings).unwrap();
    let held = elsewhere.begin_write().await.unwrap();
    let refused = plans
        .accounts
        .report_payment(payment.clone())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    assert!(refused.message().contains("retry"), "{}", refused.message());
    held.rollback().await.unwrap();
    elsewhere.close().await;
    assert_eq!(plans.count("SELECT COUNT(*) FROM payments").await, 0);
}

backend_tests!(
    an_account_for_a_customer_profiles_does_not_know_is_refused_and_nothing_is_created,
    billing_upserts_accounts_by_their_source_id,
    bad_account_input_names_the_field_and_changes_nothing,
    arrears_set_the_stage_and_a_payment_cures_the_account,
    concurrent_replays_of_one_payment_post_once,
);

/// A payment on PostgreSQL costs four round trips, counted on the wire between plans and the
/// database (issue 23): the BEGIN sent with the account's lock, the posting's one statement
/// (ledger row, account, event, the audit entry's pending half, what the answer shows), the
/// COMMIT, and the audit trail's append that settles the entry (one statement after the call;
/// under load one append carries many calls' entries). It was seven: a BEGIN of its own, and
/// sqlx's pool pinged the connection each time one came back (after the COMMIT and after the
/// append).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_on_postgresql_is_four_round_trips() {
    let Some(mut database) = TestDatabase::postgres().await else {
        return;
    };
    let counter = rapport_storage::testing::RoundTrips::in_front_of(&mut database).await;
    let mut plans = start(database).await;
    let account = plans.account("GBP", 300_000, 15_000).await;
    let pay = |key: &str| pb::ReportPaymentRequest {
        account_id: account.account_id.clone(),
        idempotency_key: key.into(),
        amount: Some(money("GBP", 1_000)),
        received_at: None,
        source_reference: String::new(),
    };
    // The first payment opens the writer's connection and prepares its statements.
    plans.accounts.report_payment(pay("p-1")).await.unwrap();
    // The server's own background work (the audit trail's sweep every 5 s) may fall into a
    // payment's window and only ever adds: the fewest of three windows is a payment's cost.
    let mut counts = Vec::new();
    for key in ["p-2", "p-3", "p-4"] {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let before = counter.so_far();
        let paid = plans.accounts.report_payment(pay(key)).await.unwrap();
        assert!(!paid.into_inner().replayed);
        // Time for anything done after the answer (a connection going back to its pool).
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        counts.push(counter.so_far() - before);
    }
    assert_eq!(
        counts.iter().min(),
        Some(&4),
        "round trips of three payments: {counts:?}"
    );
}
