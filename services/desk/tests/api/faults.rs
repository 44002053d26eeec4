//! A service that is down, and one that never answers: their sections say so, the others
//! answer, and the overview comes back within its budget.

use std::time::{Duration, Instant};

use rapport_proto::desk::v1::SectionStatus;

use crate::overview::ROOMY_BUDGET_MS;
use crate::seed;
use crate::support::{Four, Silent, closed_port, not, states};

/// What a busy test machine may add to a budget before the answer is back.
const MARGIN: Duration = Duration::from_millis(400);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_loyalty_stopped_its_sections_are_unavailable_and_the_rest_answers_at_once() {
    let four = Four::start().await;
    let seeded = seed::in_hardship(&four, "Ana Ionescu").await;
    let desk = four
        .desk(|s| {
            s.desk.loyalty_url = closed_port();
            s.desk.budget_ms = ROOMY_BUDGET_MS;
        })
        .await;

    let started = Instant::now();
    let overview = desk.overview(None, &seeded.customer_id).await.unwrap();
    let took = started.elapsed();

    let unavailable = not(&overview, SectionStatus::Ok);
    let names: Vec<_> = unavailable.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, ["loyalty", "follow_ups"], "{unavailable:#?}");
    for (_, state) in &unavailable {
        assert_eq!(state.status, SectionStatus::Unavailable as i32);
        assert_eq!(state.service, "loyalty");
        assert!(
            state.detail.starts_with("loyalty answered UNAVAILABLE"),
            "{state:?}"
        );
    }
    assert!(overview.loyalty.unwrap().score.is_none());
    assert!(overview.follow_ups.unwrap().follow_ups.is_empty());
    // A refused connection is known at once: desk does not wait out its budget for it.
    assert!(
        took < Duration::from_millis(ROOMY_BUDGET_MS / 2),
        "took {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loyalty_that_never_answers_costs_the_budget_and_no_more() {
    let four = Four::start().await;
    let seeded = seed::in_hardship(&four, "Ana Ionescu").await;
    let silent = Silent::start().await;
    // Long enough for the four's real answers on a busy machine, short enough to measure.
    let budget = Duration::from_millis(1_500);
    let desk = four
        .desk(|s| {
            s.desk.loyalty_url = silent.url.clone();
            s.desk.budget_ms = 1_500;
        })
        .await;

    let started = Instant::now();
    let overview = desk.overview(None, &seeded.customer_id).await.unwrap();
    let took = started.elapsed();

    let late = not(&overview, SectionStatus::Ok);
    let names: Vec<_> = late.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, ["loyalty", "follow_ups"], "{late:#?}");
    for (_, state) in &late {
        assert_eq!(state.status, SectionStatus::Unavailable as i32);
        assert_eq!(state.detail, "loyalty did not answer within 1500 ms");
    }
    assert!(
        took >= budget - Duration::from_millis(50) && took < budget + MARGIN,
        "took {took:?} for a budget of {budget:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_all_four_silent_the_default_budget_still_answers_with_every_section_unavailable() {
    let four = Four::start().await;
    let silent = Silent::start().await;
    let desk = four
        .desk(|s| {
            s.desk.profiles_url = silent.url.clone();
            s.desk.plans_url = silent.url.clone();
            s.desk.referrals_url = silent.url.clone();
            s.desk.loyalty_url = silent.url.clone();
        })
        .await;
    let customer_id = rapport_ids::Id::new().to_string();

    let started = Instant::now();
    let overview = desk.overview(None, &customer_id).await.unwrap();
    let took = started.elapsed();

    assert!(
        took >= Duration::from_millis(140) && took < Duration::from_millis(150) + MARGIN,
        "took {took:?} for the default budget of 150 ms"
    );
    assert_eq!(
        overview.customer_id, customer_id,
        "asked with the id as given"
    );
    for (name, state) in states(&overview) {
        assert_eq!(
            state.status,
            SectionStatus::Unavailable as i32,
            "{name}: {state:?}"
        );
        // The customer lookup may take half the budget, the rest all of it.
        let within = if name == "customer" { 75 } else { 150 };
        assert_eq!(
            state.detail,
            format!("{} did not answer within {within} ms", state.service),
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_in_a_hurry_gets_the_sections_that_answered_before_its_own_deadline() {
    let four = Four::start().await;
    let customer_id = seed::customer(&four, "Ana Ionescu").await;
    let silent = Silent::start().await;
    let desk = four
        .desk(|s| {
            s.desk.loyalty_url = silent.url.clone();
            s.desk.budget_ms = ROOMY_BUDGET_MS;
        })
        .await;
    let mut request = tonic::Request::new(rapport_proto::desk::v1::GetCustomerOverviewRequest {
        customer_id: customer_id.clone(),
        channel: 0,
    });
    request.set_timeout(Duration::from_millis(2_000));

    let started = Instant::now();
    let overview = desk
        .client
        .clone()
        .get_customer_overview(request)
        .await
        .expect("an answer, not DEADLINE_EXCEEDED")
        .into_inner();
    let took = started.elapsed();

    // Nine tenths of the caller's 2 s, not desk's own 10 s.
    assert!(
        took >= Duration::from_millis(1_750) && took < Duration::from_millis(2_000),
        "took {took:?}"
    );
    // (Without an account, may-we-call-now and the next best action are NOT_APPLICABLE.)
    let late: Vec<_> = states(&overview)
        .into_iter()
        .filter(|(_, state)| state.status == SectionStatus::Unavailable as i32)
        .collect();
    let names: Vec<_> = late.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, ["loyalty", "follow_ups"], "{overview:#?}");
    assert_eq!(late[0].1.detail, "loyalty did not answer within 1800 ms");
    assert_eq!(
        overview.customer.unwrap().customer.unwrap().customer_id,
        customer_id
    );
}
