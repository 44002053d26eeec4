//! The overview of a customer with something everywhere, of one nobody knows, of a malformed id,
//! and of a merged-away id.

use rapport_clock::Clock;
use rapport_proto::desk::v1 as pb;
use rapport_proto::desk::v1::SectionStatus;
use tonic::Code;

use crate::seed;
use crate::support::{Four, not, status_of, violated_fields};

/// The budget for tests that assert sections are OK: generous, since the machine running them
/// may be busy compiling; the budget itself is tested in `faults`.
pub const ROOMY_BUDGET_MS: u64 = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_sees_every_section_of_a_customer_in_hardship() {
    let four = Four::start().await;
    let seeded = seed::in_hardship(&four, "Ana Ionescu").await;
    let desk = four.desk(|s| s.desk.budget_ms = ROOMY_BUDGET_MS).await;

    let overview = desk.overview(None, &seeded.customer_id).await.unwrap();

    assert_eq!(not(&overview, SectionStatus::Ok), vec![], "{overview:#?}");
    assert_eq!(overview.customer_id, seeded.customer_id);
    assert_eq!(overview.merged_from, "");
    let customer = overview.customer.unwrap().customer.unwrap();
    assert_eq!(customer.legal_name, "Ana Ionescu");
    let accounts = overview.accounts.unwrap().accounts;
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].account_id, seeded.account_id);
    assert_eq!(accounts[0].days_past_due, 35);
    // May we call now and what next: about that account, on the phone (the default channel).
    let contact = overview.contact.unwrap();
    assert_eq!(contact.account_id, seeded.account_id);
    let decision = contact.decision.expect("a contact decision");
    assert!(!decision.reasons.is_empty(), "{decision:?}");
    assert!(!decision.decision_id.is_empty());
    assert!(
        decision.reservation_expires_at.is_none(),
        "desk never reserves an attempt slot"
    );
    let next = overview.next_best_action.unwrap();
    assert_eq!(next.account_id, seeded.account_id);
    assert!(next.action.is_some());
    assert!(!overview.protections.unwrap().protections.is_empty());
    let cases = overview.hardship.unwrap().open_cases;
    assert_eq!(cases.len(), 1);
    assert!(cases[0].affordability.is_some(), "{:?}", cases[0]);
    assert!(cases[0].headroom.is_some(), "{:?}", cases[0]);
    let plans = overview.plans.unwrap().plans;
    assert_eq!(plans.len(), 1);
    assert_eq!(plans[0].plan.as_ref().unwrap().plan_id, seeded.plan_id);
    assert_eq!(
        plans[0].next_installment.as_ref().map(|i| i.sequence),
        Some(1),
        "nothing paid yet: the first installment is next"
    );
    assert_eq!(plans[0].missed_installments, 0);
    assert_eq!(overview.promises.unwrap().promises.len(), 1);
    let score = overview.loyalty.unwrap().score.expect("a loyalty score");
    assert_eq!(score.customer_id, seeded.customer_id);
    let follow_ups = overview.follow_ups.unwrap().follow_ups;
    assert_eq!(follow_ups.len(), 1, "the detractor's follow-up");
    // Ours, and (once loyalty's outbox delivers it) the follow-up's own on the timeline.
    let commitments = overview.commitments.unwrap().commitments;
    assert!(
        commitments
            .iter()
            .any(|c| c.description == "Call back on the first payment date."),
        "{commitments:?}"
    );
    let referrals = overview.referrals.unwrap();
    assert_eq!(referrals.referrals_made.len(), 1);
    assert!(referrals.trust.is_some());
    assert_eq!(
        overview.as_of.map(|t| t.seconds),
        Some(four.clock.now().as_second()),
        "desk's clock"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_customer_is_not_found_and_a_malformed_id_names_customer_id() {
    let four = Four::start().await;
    let desk = four.desk(|s| s.desk.budget_ms = ROOMY_BUDGET_MS).await;

    let unknown = rapport_ids::Id::new().to_string();
    let status = desk.overview(None, &unknown).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");

    for malformed in ["", "not-an-id", "67e55044-10b1-426f-9247-bb680e5fe0c8"] {
        let status = desk.overview(None, malformed).await.unwrap_err();
        assert_eq!(
            status.code(),
            Code::InvalidArgument,
            "{malformed:?}: {status:?}"
        );
        assert_eq!(
            violated_fields(&status),
            vec!["customer_id"],
            "{malformed:?}"
        );
    }
    let status = desk
        .client
        .clone()
        .get_customer_overview(pb::GetCustomerOverviewRequest {
            customer_id: unknown,
            channel: 99,
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), vec!["channel"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merged_away_id_is_answered_for_its_survivor() {
    let four = Four::start().await;
    let survivor = seed::customer(&four, "Maria Popa").await;
    let duplicate = seed::customer(&four, "Maria Popa").await;
    seed::merge(&four, &survivor, &duplicate).await;
    let desk = four.desk(|s| s.desk.budget_ms = ROOMY_BUDGET_MS).await;

    let overview = desk.overview(None, &duplicate).await.unwrap();

    assert_eq!(overview.customer_id, survivor);
    assert_eq!(overview.merged_from, duplicate);
    assert_eq!(
        overview.customer.unwrap().customer.unwrap().customer_id,
        survivor
    );
    // The survivor has no account: an empty list is a real answer, and there is nothing to ask
    // may-we-call-now about.
    let accounts = overview.accounts.unwrap();
    assert_eq!(status_of(accounts.state.as_ref()), SectionStatus::Ok);
    assert!(accounts.accounts.is_empty());
    for section in [
        overview.contact.unwrap().state,
        overview.next_best_action.unwrap().state,
    ] {
        assert_eq!(status_of(section.as_ref()), SectionStatus::NotApplicable);
    }
}
