//! AccountService/ListAccounts: an agent who knows only the customer finds their accounts, the
//! most behind first.

use rapport_clock::SignedDuration;
use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;
use tonic::Code;

use crate::merges::merged_event;
use crate::support::{Plans, create_customer, money, start, upsert_for, violated_fields};

fn request(customer_id: &str, page_size: i32, page_token: &str) -> pb::ListAccountsRequest {
    pb::ListAccountsRequest {
        customer_id: customer_id.into(),
        page: Some(common::PageRequest {
            page_size,
            page_token: page_token.into(),
        }),
        ..Default::default()
    }
}

async fn list(plans: &mut Plans, r: pb::ListAccountsRequest) -> (Vec<pb::Account>, String) {
    let answer = plans.accounts.list_accounts(r).await.unwrap().into_inner();
    (answer.accounts, answer.page.unwrap().next_page_token)
}

fn ids(accounts: &[pb::Account]) -> Vec<&str> {
    accounts.iter().map(|a| a.account_id.as_str()).collect()
}

/// An account of the harness customer `days` past due (0: up to date), an hour after the last.
async fn behind(plans: &mut Plans, days: i32) -> pb::Account {
    plans.clock.advance(SignedDuration::from_hours(1));
    let account = plans.account("GBP", 300_000, 15_000).await;
    if days == 0 {
        return account;
    }
    plans
        .arrears(&account.account_id, days, money("GBP", 15_000))
        .await
}

async fn the_most_behind_come_first_then_the_newest_a_page_at_a_time(database: TestDatabase) {
    let mut plans = start(database).await;
    let older_current = behind(&mut plans, 0).await;
    let mid = behind(&mut plans, 45).await;
    let early = behind(&mut plans, 10).await;
    let severe = behind(&mut plans, 200).await;
    let newer_current = behind(&mut plans, 0).await;
    // Someone else's account is not the customer's.
    let other = create_customer(&mut plans.profiles, "Radu Popescu").await;
    plans
        .accounts
        .upsert_account(upsert_for(&other, "GBP", 100_000, 5_000, "other-1"))
        .await
        .unwrap();

    let customer = plans.customer_id.clone();
    let (first, token) = list(&mut plans, request(&customer, 2, "")).await;
    assert_eq!(ids(&first), [&severe.account_id, &mid.account_id]);
    assert_eq!(first[0].stage, pb::DelinquencyStage::Severe as i32);
    assert_eq!(first[0].days_past_due, 200);
    assert!(!token.is_empty(), "a second page follows");
    let (second, token) = list(&mut plans, request(&customer, 2, &token)).await;
    assert_eq!(ids(&second), [&early.account_id, &newer_current.account_id]);
    let (third, token) = list(&mut plans, request(&customer, 2, &token)).await;
    assert_eq!(ids(&third), [&older_current.account_id]);
    assert!(token.is_empty(), "the last page says so");

    let mut in_arrears = request(&customer, 0, "");
    in_arrears.in_arrears_only = true;
    let (listed, _) = list(&mut plans, in_arrears).await;
    assert_eq!(
        ids(&listed),
        [&severe.account_id, &mid.account_id, &early.account_id]
    );

    let mut staged = request(&customer, 0, "");
    staged.stages = vec![
        pb::DelinquencyStage::Early as i32,
        pb::DelinquencyStage::Current as i32,
    ];
    let (listed, _) = list(&mut plans, staged).await;
    assert_eq!(
        ids(&listed),
        [
            &early.account_id,
            &newer_current.account_id,
            &older_current.account_id
        ]
    );
    let mut staged = request(&customer, 0, "");
    staged.stages = vec![pb::DelinquencyStage::Mid as i32];
    staged.in_arrears_only = true;
    let (listed, _) = list(&mut plans, staged).await;
    assert_eq!(ids(&listed), [&mid.account_id]);

    // Plans does not own customers: one with no accounts (or unknown) is an empty list.
    let stranger = rapport_ids::Id::new().to_string();
    let (listed, token) = list(&mut plans, request(&stranger, 0, "")).await;
    assert!(listed.is_empty() && token.is_empty());
}

async fn a_merged_away_customer_s_accounts_are_the_survivor_s(database: TestDatabase) {
    let mut plans = start(database).await;
    let survivor = plans.customer_id.clone();
    let duplicate = create_customer(&mut plans.profiles, "Ana Ionescu").await;
    let kept = behind(&mut plans, 0).await;
    plans.clock.advance(SignedDuration::from_hours(1));
    let moved = plans
        .accounts
        .upsert_account(upsert_for(&duplicate, "GBP", 100_000, 5_000, "dup-1"))
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    plans
        .accounts
        .ingest_events(pb::IngestEventsRequest {
            events: vec![merged_event(
                &rapport_ids::Id::new().to_string(),
                &survivor,
                &duplicate,
            )],
        })
        .await
        .unwrap();
    for asked in [&duplicate, &survivor] {
        let (listed, _) = list(&mut plans, request(asked, 0, "")).await;
        assert_eq!(
            ids(&listed),
            [&moved.account_id, &kept.account_id],
            "asked for {asked}"
        );
        assert!(listed.iter().all(|a| a.customer_id == survivor));
    }
}

async fn what_list_accounts_cannot_read_is_named(database: TestDatabase) {
    let plans = start(database).await;
    let customer = plans.customer_id.clone();
    let refused = |r| {
        let mut client = plans.accounts.clone();
        async move { client.list_accounts(r).await.unwrap_err() }
    };
    let missing = refused(request("", 0, "")).await;
    assert_eq!(missing.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&missing), ["customer_id"]);

    let mut stages = request(&customer, 0, "");
    stages.stages = vec![
        pb::DelinquencyStage::Early as i32,
        pb::DelinquencyStage::Unspecified as i32,
        99,
    ];
    let bad = refused(stages).await;
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&bad), ["stages[1]", "stages[2]"]);

    for token in ["not-a-token", "p1zz"] {
        let bad = refused(request(&customer, 0, token)).await;
        assert_eq!(bad.code(), Code::InvalidArgument);
        assert_eq!(violated_fields(&bad), ["page.page_token"], "{token}");
    }
}

backend_tests!(
    the_most_behind_come_first_then_the_newest_a_page_at_a_time,
    a_merged_away_customer_s_accounts_are_the_survivor_s,
    what_list_accounts_cannot_read_is_named,
);
