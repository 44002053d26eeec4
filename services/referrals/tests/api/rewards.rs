//! Rewards: exactly once, within the annual cap, held while a strong fraud flag is open.

use futures_util::future::join_all;
use rapport_proto::referrals::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;

use crate::referrals::{code_for, sign_up};
use crate::support::{Referrals, agent, at, start};

async fn evaluate(r: &Referrals, when: &str) -> pb::EvaluateQualificationsResponse {
    r.referrals
        .clone()
        .evaluate_qualifications(pb::EvaluateQualificationsRequest {
            as_of: Some(at(when)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

async fn rewards_are_issued_once_however_often_and_concurrently_evaluated(database: TestDatabase) {
    let mut r = start(database).await;
    let ana = r.customer("Ana Pop", (2019, 1, 10), "ana@example.ro").await;
    let code = code_for(&mut r, &ana).await;
    let ioana = r
        .customer("Ioana Vlad", (2026, 3, 1), "ioana@example.com")
        .await;
    sign_up(&mut r, &code, &ioana, "").await;

    // Signed up 2 March 09:00: 90 days are complete on 31 May 09:00.
    r.clock.set("2026-05-31T08:59:00Z".parse().unwrap());
    let early = evaluate(&r, "2026-05-31T08:59:00Z").await;
    assert_eq!(early.qualified, 0, "a minute short of 90 days");
    r.clock.set("2026-06-10T09:00:00Z".parse().unwrap());
    let runs = (0..10).map(|_| {
        let r = &r;
        async move { evaluate(r, "2026-06-10T09:00:00Z").await }
    });
    join_all(runs).await;
    evaluate(&r, "2026-06-10T09:00:00Z").await;
    assert_eq!(
        r.count("SELECT COUNT(*) FROM rewards").await,
        2,
        "double-sided, once"
    );
    assert_eq!(
        r.count("SELECT COUNT(*) FROM rewards WHERE status = 'REWARD_STATUS_ISSUED'")
            .await,
        2
    );
    assert_eq!(
        r.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'referrals.reward_issued.v1'")
            .await,
        2
    );
}

async fn the_annual_cap_holds(database: TestDatabase) {
    let mut r = start(database).await;
    let ana = r.customer("Ana Pop", (2019, 1, 10), "ana@example.ro").await;
    let code = code_for(&mut r, &ana).await;
    for i in 0..6 {
        let friend = r
            .customer(
                &format!("Friend {i}"),
                (2026, 3, 1),
                &format!("friend{i}@example.com"),
            )
            .await;
        sign_up(&mut r, &code, &friend, "").await;
    }
    r.clock.set("2026-06-10T09:00:00Z".parse().unwrap());
    evaluate(&r, "2026-06-10T09:00:00Z").await;
    let rewards = r
        .referrals
        .list_rewards(pb::ListRewardsRequest {
            customer_id: ana.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .rewards;
    let issued: i64 = rewards
        .iter()
        .filter(|w| w.status == pb::RewardStatus::Issued as i32)
        .map(|w| w.value.as_ref().unwrap().minor_units)
        .sum();
    assert_eq!(issued, 25_000, "five 50.00 rewards fit the 250.00 cap");
    assert_eq!(
        rewards
            .iter()
            .filter(|w| w.status == pb::RewardStatus::Capped as i32)
            .count(),
        1
    );
}

async fn flagged_rewards_wait_for_review_and_a_shared_ip_alone_does_not(database: TestDatabase) {
    let mut r = start(database).await;
    let ana = r
        .customer("Ana Pop", (2019, 1, 10), "ana.pop@gmail.com")
        .await;
    let code = code_for(&mut r, &ana).await;
    // The "new" customer is Ana again: her Gmail address with dots and a +tag.
    let alias = r
        .customer("A. Pop", (2026, 3, 1), "a.n.a.pop+promo@googlemail.com")
        .await;
    let flagged = sign_up(&mut r, &code, &alias, "").await;
    let strong: Vec<&pb::FraudFlag> = flagged
        .fraud_flags
        .iter()
        .filter(|f| f.severity == pb::FraudSeverity::Strong as i32)
        .collect();
    assert!(
        strong
            .iter()
            .any(|f| f.signal == pb::FraudSignal::SelfReferralEmail as i32),
        "{:?}",
        flagged.fraud_flags
    );
    // A retried sign-up answers as the first did, flags included.
    let again = sign_up(&mut r, &code, &alias, "").await;
    let ids = |flags: &[pb::FraudFlag]| {
        let mut ids: Vec<String> = flags.iter().map(|f| f.flag_id.clone()).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&again.fraud_flags), ids(&flagged.fraud_flags));
    assert_eq!(
        again.referral.unwrap().status,
        flagged.referral.clone().unwrap().status
    );

    // A colleague in the same office: same IP, nothing else shared.
    let colleague = r.customer("Dan Ene", (2026, 3, 1), "dan@example.ro").await;
    let other = r
        .customer("Maria Ion", (2018, 6, 1), "maria@example.ro")
        .await;
    let maria_code = code_for(&mut r, &other).await;
    let office = sign_up(&mut r, &maria_code, &colleague, "203.0.113.7").await;
    assert!(
        office
            .fraud_flags
            .iter()
            .all(|f| f.severity == pb::FraudSeverity::Weak as i32),
        "{:?}",
        office.fraud_flags
    );

    r.clock.set("2026-06-10T09:00:00Z".parse().unwrap());
    evaluate(&r, "2026-06-10T09:00:00Z").await;
    assert_eq!(
        r.count("SELECT COUNT(*) FROM rewards WHERE status = 'REWARD_STATUS_HELD'")
            .await,
        2,
        "the self-referral's rewards wait"
    );
    assert_eq!(
        r.count("SELECT COUNT(*) FROM rewards WHERE status = 'REWARD_STATUS_ISSUED'")
            .await,
        2,
        "the shared IP alone does not hold"
    );

    let flag = strong[0].flag_id.clone();
    let resolved = r
        .referrals
        .resolve_fraud_flag(pb::ResolveFraudFlagRequest {
            flag_id: flag,
            decision: pb::FraudFlagStatus::Confirmed as i32,
            reason: "same person, second account".into(),
            reviewer: Some(agent("fraud-team")),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        resolved.fraud_flag.unwrap().status,
        pb::FraudFlagStatus::Confirmed as i32
    );
    assert!(
        resolved
            .rewards
            .iter()
            .all(|w| w.status == pb::RewardStatus::Cancelled as i32)
    );
    assert!(!resolved.rewards.is_empty());
}

backend_tests!(
    rewards_are_issued_once_however_often_and_concurrently_evaluated,
    the_annual_cap_holds,
    flagged_rewards_wait_for_review_and_a_shared_ip_alone_does_not,
);
