//! Who may use the discovery RPCs (issue 24), through the real guard with bearer tokens: an agent
//! may use all four; a billing system may list accounts but read nothing of hardship; an
//! auditor reads nothing about one customer.

use std::time::Duration;

use rapport_proto::plans::v1 as pb;
use rapport_proto::plans::v1::account_service_client::AccountServiceClient;
use rapport_proto::plans::v1::hardship_service_client::HardshipServiceClient;
use rapport_security::Role;
use rapport_server::ServerSettings;
use rapport_server::testing::TestServer;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;
use tonic::transport::Channel;
use tonic::{Code, Request};

use crate::support::assembled;

const SECRET: &str = "plans-discovery-roles-test-secret-0123456789";

fn with<T>(token: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

fn code<T>(answer: Result<T, tonic::Status>) -> Code {
    answer.map_or_else(|s| s.code(), |_| Code::Ok)
}

/// Each of the four discovery RPCs called as `role`: the code it answers.
async fn codes_for(channel: &Channel, role: Role) -> [Code; 4] {
    let token = rapport_security::dev::mint_hs256(
        SECRET.as_bytes(),
        "someone",
        &[role],
        Duration::from_secs(600),
    )
    .unwrap();
    let customer_id = rapport_ids::Id::new().to_string();
    let mut accounts = AccountServiceClient::new(channel.clone());
    let mut hardship = HardshipServiceClient::new(channel.clone());
    [
        code(
            accounts
                .list_accounts(with(
                    &token,
                    pb::ListAccountsRequest {
                        customer_id: customer_id.clone(),
                        ..Default::default()
                    },
                ))
                .await,
        ),
        code(
            hardship
                .list_hardship_cases(with(
                    &token,
                    pb::ListHardshipCasesRequest {
                        customer_id: customer_id.clone(),
                        ..Default::default()
                    },
                ))
                .await,
        ),
        code(
            hardship
                .get_hardship_case(with(
                    &token,
                    pb::GetHardshipCaseRequest {
                        case_id: rapport_ids::Id::new().to_string(),
                    },
                ))
                .await,
        ),
        code(
            hardship
                .list_protections(with(
                    &token,
                    pb::ListProtectionsRequest {
                        customer_id,
                        ..Default::default()
                    },
                ))
                .await,
        ),
    ]
}

async fn an_agent_may_discover_billing_only_accounts_and_an_auditor_nothing(
    database: TestDatabase,
) {
    let secrets = tempfile::tempdir().unwrap();
    let secret_file = secrets.path().join("secret");
    std::fs::write(&secret_file, SECRET).unwrap();
    let settings = ServerSettings {
        auth: rapport_security::AuthSettings {
            mode: rapport_security::AuthMode::Jwt,
            hs256_secret_file: Some(secret_file),
            ..rapport_security::AuthSettings::default()
        },
        ..ServerSettings::default()
    };
    let clock = std::sync::Arc::new(rapport_clock::ManualClock::new(
        crate::support::start_instant(),
    ));
    let server = TestServer::start_with(settings.clone(), |address| {
        Ok::<_, String>(vec![assembled(
            &settings,
            &database.settings,
            clock.clone(),
            &format!("http://{address}"),
        )?])
    })
    .await;
    let channel = server.channel.clone();

    // An unknown case is NOT_FOUND: the agent got past the guard.
    let (ok, found_none) = (Code::Ok, Code::NotFound);
    assert_eq!(
        codes_for(&channel, Role::Agent).await,
        [ok, ok, found_none, ok]
    );
    let denied = Code::PermissionDenied;
    assert_eq!(
        codes_for(&channel, Role::BillingSystem).await,
        [ok, denied, denied, denied]
    );
    assert_eq!(
        codes_for(&channel, Role::Auditor).await,
        [denied, denied, denied, denied]
    );
}

backend_tests!(an_agent_may_discover_billing_only_accounts_and_an_auditor_nothing);
