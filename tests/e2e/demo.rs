//! `rapport dev --demo`: the data set seeds through the API, once per data directory; with
//! `--secure DIR`, over mutual TLS with the demo's own token.

use std::net::SocketAddr;
use std::time::Duration;

use rapport::{agent, demo, dev};
use rapport_e2e::Suite;
use rapport_proto::audit::v1 as audit;
use rapport_proto::audit::v1::audit_service_client::AuditServiceClient;
use rapport_proto::loyalty::v1 as loyalty;
use rapport_proto::loyalty::v1::loyalty_service_client::LoyaltyServiceClient;
use rapport_security::Role;
use rapport_security::dev::{DevMaterial, mint_hs256};

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
        (11, 7, 3, 2, 1)
    );
    // Ștefan, the customer in hardship whose desk overview fills every section, is a detractor
    // and has referred a friend himself.
    assert_eq!(
        (seeded.answers, seeded.detractors, seeded.referrals),
        (9, 4, 2)
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
        2 + 4,
        "a header, a rule and four detractors:\n{waiting}"
    );
    let nps = LoyaltyServiceClient::new(suite.channel.clone())
        .get_nps(loyalty::GetNpsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!((nps.n, nps.promoters, nps.detractors), (9, 3, 4));
    suite.stop().await.unwrap();
}

/// `rapport dev --secure DIR --demo` (issue 21): the demo seeds over mutual TLS with a token of
/// its own, acting for the agents it names; an agent reads the data back over mutual TLS with
/// hers, and the trail says who seeded what for whom.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_seeds_a_secured_suite_over_mutual_tls_with_its_own_token() {
    let data = tempfile::tempdir().unwrap();
    let material = DevMaterial::ensure(&data.path().join("secure")).unwrap();
    let suite = dev::build_secured(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        None,
        data.path(),
        Some(&material),
    )
    .await
    .unwrap();
    let (url, credentials) =
        demo::target(suite.application.local_addr(), suite.security.as_ref()).unwrap();
    assert!(url.starts_with("https://"), "{url}");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(suite.application.run_until_stopped(async move {
        let _ = stopped.await;
    }));

    let seeded = demo::seed_when_ready_with(&url, &credentials, data.path())
        .await
        .unwrap()
        .expect("a fresh directory is seeded");
    assert_eq!(
        (
            seeded.customers,
            seeded.accounts,
            seeded.hardship_cases,
            seeded.plans
        ),
        (11, 7, 2, 1)
    );
    // Ștefan, the customer in hardship whose desk overview fills every section, is a detractor
    // and has referred a friend himself.
    assert_eq!(
        (seeded.answers, seeded.detractors, seeded.referrals),
        (9, 4, 2)
    );

    // An agent, over mutual TLS with her own token, finds what was seeded.
    let secret = rapport_security::token::read_secret(&material.secret).unwrap();
    let as_whom = |subject: &str, roles: &[Role]| agent::Credentials {
        token: Some(mint_hs256(&secret, subject, roles, Duration::from_secs(600)).unwrap()),
        tls: credentials.tls.clone(),
    };
    let agent_credentials = as_whom("agent-1", &[Role::Agent]);
    let found = agent::customer_find(
        agent::connect_with(&url, &agent_credentials).await.unwrap(),
        "stefan",
    )
    .await
    .unwrap();
    assert!(found.contains("Ștefan Ionescu"), "{found}");
    let waiting = agent::follow_ups(
        agent::connect_with(&url, &agent_credentials).await.unwrap(),
        false,
        "",
    )
    .await
    .unwrap();
    assert_eq!(waiting.lines().count(), 2 + 4, "{waiting}");
    // The suite is secured all the same: without a token the same read is refused.
    let anonymous = agent::Credentials {
        token: None,
        tls: credentials.tls.clone(),
    };
    let refused = agent::customer_find(
        agent::connect_with(&url, &anonymous).await.unwrap(),
        "stefan",
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(refused.contains("Unauthenticated"), "{refused}");

    // The trail names the demo as the actor, and the agent it acted for.
    let auditor = as_whom("auditor-1", &[Role::Auditor]);
    let mut trail = AuditServiceClient::new(agent::connect_with(&url, &auditor).await.unwrap());
    let opened = trail
        .list_audit_entries(audit::ListAuditEntriesRequest {
            service: "plans".into(),
            rpc: "/rapport.plans.v1.HardshipService/OpenHardshipCase".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(opened.len(), 2, "{opened:?}");
    for entry in &opened {
        assert_eq!(
            (entry.actor.as_str(), entry.outcome.as_str()),
            (demo::DEMO_SUBJECT, "OK")
        );
        assert!(
            entry
                .targets
                .contains(&"on_behalf_of=agent-demo".to_owned()),
            "{entry:?}"
        );
    }

    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();
}
