//! HardshipService/ListProtections: the protected states in force for a customer or an account,
//! soonest end first, as an agent must see them before any contact about the debt.

use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;
use tonic::Code;

use crate::merges::merged_event;
use crate::support::{Plans, agent, at, create_customer, start, violated_fields};

async fn protect(
    plans: &mut Plans,
    customer_id: &str,
    accounts: &[&str],
    kind: pb::ProtectionKind,
) -> pb::Protection {
    plans
        .hardship
        .set_protection(pb::SetProtectionRequest {
            customer_id: customer_id.into(),
            account_ids: accounts.iter().map(|a| (*a).to_owned()).collect(),
            kind: kind as i32,
            set_by: Some(agent("agent-5")),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .protection
        .unwrap()
}

async fn clear(plans: &mut Plans, protection_id: &str, treatment_ended: Option<&str>) {
    plans
        .hardship
        .clear_protection(pb::ClearProtectionRequest {
            protection_id: protection_id.into(),
            reason: "resolved".into(),
            cleared_by: Some(agent("agent-5")),
            treatment_ended_at: treatment_ended.map(at),
        })
        .await
        .unwrap();
}

fn request(
    customer_id: &str,
    account_id: &str,
    include_ended: bool,
    page_size: i32,
    page_token: &str,
) -> pb::ListProtectionsRequest {
    pb::ListProtectionsRequest {
        customer_id: customer_id.into(),
        account_id: account_id.into(),
        include_ended,
        page: Some(common::PageRequest {
            page_size,
            page_token: page_token.into(),
        }),
    }
}

async fn list(plans: &mut Plans, r: pb::ListProtectionsRequest) -> (Vec<pb::Protection>, String) {
    let answer = plans
        .hardship
        .list_protections(r)
        .await
        .unwrap()
        .into_inner();
    (answer.protections, answer.page.unwrap().next_page_token)
}

fn ids(protections: &[pb::Protection]) -> Vec<&str> {
    protections
        .iter()
        .map(|p| p.protection_id.as_str())
        .collect()
}

async fn protections_in_force_come_soonest_end_first(database: TestDatabase) {
    let mut plans = start(database).await;
    let customer = plans.customer_id.clone();
    let first = plans.account("GBP", 300_000, 15_000).await.account_id;
    let second = plans.account("GBP", 100_000, 5_000).await.account_id;
    // Starts now (2 March 09:00): a standard breathing space ends after 60 days, on 1 May.
    let breathing = protect(
        &mut plans,
        &customer,
        &[&first],
        pb::ProtectionKind::BreathingSpace,
    )
    .await;
    // Cleared, with treatment ended 1 March: in force 30 more days (ENDING), until 31 March.
    let crisis = protect(
        &mut plans,
        &customer,
        &[],
        pb::ProtectionKind::MentalHealthCrisis,
    )
    .await;
    clear(
        &mut plans,
        &crisis.protection_id,
        Some("2026-03-01T00:00:00Z"),
    )
    .await;
    // Open-ended: last, in the order they were set.
    let dispute = protect(
        &mut plans,
        &customer,
        &[&second],
        pb::ProtectionKind::Dispute,
    )
    .await;
    let hold = protect(
        &mut plans,
        &customer,
        &[],
        pb::ProtectionKind::VulnerabilityHold,
    )
    .await;
    // Cleared at once: ended now.
    let ended = protect(
        &mut plans,
        &customer,
        &[&first],
        pb::ProtectionKind::Dispute,
    )
    .await;
    clear(&mut plans, &ended.protection_id, None).await;
    // Someone else's protection is not the customer's.
    let other = create_customer(&mut plans.profiles, "Radu Popescu").await;
    protect(&mut plans, &other, &[], pb::ProtectionKind::Dispute).await;

    let (page, token) = list(&mut plans, request(&customer, "", false, 2, "")).await;
    assert_eq!(
        ids(&page),
        [&crisis.protection_id, &breathing.protection_id]
    );
    assert_eq!(page[0].status, pb::ProtectionStatus::Ending as i32);
    assert_eq!(page[1].status, pb::ProtectionStatus::Active as i32);
    assert!(!token.is_empty());
    let (page, token) = list(&mut plans, request(&customer, "", false, 2, &token)).await;
    assert_eq!(ids(&page), [&dispute.protection_id, &hold.protection_id]);
    assert!(token.is_empty(), "four in force, two pages");

    let (all, _) = list(&mut plans, request(&customer, "", true, 0, "")).await;
    assert_eq!(
        ids(&all),
        [
            &ended.protection_id,
            &crisis.protection_id,
            &breathing.protection_id,
            &dispute.protection_id,
            &hold.protection_id
        ]
    );
    assert_eq!(all[0].status, pb::ProtectionStatus::Ended as i32);

    // An account: those naming it and those set for every account of its customer.
    let (covering, _) = list(&mut plans, request("", &first, false, 0, "")).await;
    assert_eq!(
        ids(&covering),
        [
            &crisis.protection_id,
            &breathing.protection_id,
            &hold.protection_id
        ]
    );
    let (covering, _) = list(&mut plans, request(&customer, &second, false, 0, "")).await;
    assert_eq!(
        ids(&covering),
        [
            &crisis.protection_id,
            &dispute.protection_id,
            &hold.protection_id
        ]
    );
    // Both named, but the account is not that customer's: nothing matches both.
    let (none, _) = list(&mut plans, request(&other, &first, false, 0, "")).await;
    assert!(none.is_empty());

    // On 31 March the crisis moratorium has ended.
    plans.clock.set("2026-03-31T00:00:00Z".parse().unwrap());
    let (page, _) = list(&mut plans, request(&customer, "", false, 0, "")).await;
    assert_eq!(
        ids(&page),
        [
            &breathing.protection_id,
            &dispute.protection_id,
            &hold.protection_id
        ]
    );
}

async fn a_merged_away_customer_s_protections_are_the_survivor_s(database: TestDatabase) {
    let mut plans = start(database).await;
    let survivor = plans.customer_id.clone();
    let duplicate = create_customer(&mut plans.profiles, "Ana Ionescu").await;
    let hold = protect(
        &mut plans,
        &duplicate,
        &[],
        pb::ProtectionKind::VulnerabilityHold,
    )
    .await;
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
    let (listed, _) = list(&mut plans, request(&duplicate, "", false, 0, "")).await;
    assert_eq!(ids(&listed), [&hold.protection_id]);
    assert_eq!(listed[0].customer_id, survivor);
}

async fn what_list_protections_cannot_answer_is_named(database: TestDatabase) {
    let plans = start(database).await;
    let customer = plans.customer_id.clone();
    let mut hardship = plans.hardship.clone();
    let neither = hardship
        .list_protections(request("", "", false, 0, ""))
        .await
        .unwrap_err();
    assert_eq!(neither.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&neither), ["customer_id", "account_id"]);
    let bad = hardship
        .list_protections(request(&customer, "nope", false, 0, "p1zz"))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&bad), ["account_id", "page.page_token"]);
    let unknown = hardship
        .list_protections(request(
            "",
            &rapport_ids::Id::new().to_string(),
            false,
            0,
            "",
        ))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
}

backend_tests!(
    protections_in_force_come_soonest_end_first,
    a_merged_away_customer_s_protections_are_the_survivor_s,
    what_list_protections_cannot_answer_is_named,
);
