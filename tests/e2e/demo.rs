//! `rapport dev --demo`: the data set seeds through the API, once per data directory.

#![allow(clippy::unwrap_used)]

use rapport::{agent, demo};
use rapport_e2e::Suite;
use rapport_proto::loyalty::v1 as loyalty;
use rapport_proto::loyalty::v1::loyalty_service_client::LoyaltyServiceClient;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_seeds_a_realistic_suite_once() {
    let suite = Suite::start().await;
    let dir = tempfile::tempdir().unwrap();
    let seeded = demo::seed_when_ready(&suite.url, dir.path())
        .await
        .unwrap()
        .expect("a fresh directory is seeded");
    assert_eq!(
        (
            seeded.customers,
            seeded.accounts,
            seeded.in_arrears,
            seeded.hardship_cases,
            seeded.plans
        ),
        (11, 5, 3, 2, 1)
    );
    assert_eq!(
        (seeded.answers, seeded.detractors, seeded.referrals),
        (9, 3, 1)
    );
    assert!(
        demo::seed_when_ready(&suite.url, dir.path())
            .await
            .unwrap()
            .is_none(),
        "once per data directory"
    );

    let found = agent::customer_find(agent::connect(&suite.url).await.unwrap(), "stefan")
        .await
        .unwrap();
    assert!(found.contains("Ștefan Ionescu"), "{found}");
    let greek = agent::customer_find(agent::connect(&suite.url).await.unwrap(), "Αλέξανδρος")
        .await
        .unwrap();
    assert!(greek.contains("Παπαδόπουλος"), "{greek}");
    let waiting = agent::follow_ups(agent::connect(&suite.url).await.unwrap(), false, "")
        .await
        .unwrap();
    assert_eq!(
        waiting.lines().count(),
        2 + 3,
        "a header, a rule and three detractors:\n{waiting}"
    );
    let nps = LoyaltyServiceClient::new(suite.channel.clone())
        .get_nps(loyalty::GetNpsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!((nps.n, nps.promoters, nps.detractors), (9, 3, 3));
    suite.stop().await.unwrap();
}
