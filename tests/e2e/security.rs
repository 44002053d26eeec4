//! The suite secured as `rapport dev --secure` runs it: mutual TLS with a development CA, HS256
//! bearer tokens, the permission table on every RPC, the audit trail, per-caller rate limits
//! and the request size limit.

use std::net::SocketAddr;
use std::time::Duration;

use rapport::dev;
use rapport_proto::audit::v1 as audit;
use rapport_proto::audit::v1::audit_service_client::AuditServiceClient;
use rapport_proto::common::v1 as common;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_security::dev::{DevCa, DevMaterial, mint_hs256};
use rapport_security::policy::{self, Role};
use rapport_server::{Application, ServerSettings, ServiceUnit, TlsSettings};
use tokio::sync::oneshot;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::{Code, Request};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// The secured suite on a free port, with its development material.
struct Secure {
    address: SocketAddr,
    material: DevMaterial,
    data: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Secure {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

impl Secure {
    async fn start() -> Self {
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
        Self::run(suite.application, material, data).await
    }

    async fn run(application: Application, material: DevMaterial, data: tempfile::TempDir) -> Self {
        let address = application.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(application.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        let secure = Self {
            address,
            material,
            data,
            stop: Some(stop),
        };
        // Health is open to every client with a good certificate; wait until it serves.
        let channel = secure.channel().await;
        for _ in 0..200 {
            let answer = HealthClient::new(channel.clone())
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await;
            if answer.is_ok_and(|a| a.into_inner().status == ServingStatus::Serving as i32) {
                return secure;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the secured suite never served");
    }

    /// A channel with the development client certificate.
    async fn channel(&self) -> Channel {
        self.channel_with(Some((
            read(&self.material.client_certificate),
            read(&self.material.client_key),
        )))
        .await
        .unwrap()
    }

    async fn channel_with(
        &self,
        identity: Option<(String, String)>,
    ) -> Result<Channel, tonic::transport::Error> {
        let mut tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(read(&self.material.ca)))
            .domain_name("localhost");
        if let Some((certificate, key)) = identity {
            tls = tls.identity(Identity::from_pem(certificate, key));
        }
        Endpoint::from_shared(format!("https://{}", self.address))?
            .tls_config(tls)?
            .connect()
            .await
    }

    fn token(&self, subject: &str, roles: &[Role]) -> String {
        let secret = rapport_security::token::read_secret(&self.material.secret).unwrap();
        mint_hs256(&secret, subject, roles, Duration::from_secs(600)).unwrap()
    }
}

fn with_token<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

/// Any RPC by its path, with an empty request: what the guard decides does not depend on it.
async fn call_empty(channel: &Channel, method: &'static str, token: &str) -> tonic::Status {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.unwrap();
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    match grpc
        .unary(
            with_token((), token),
            http::uri::PathAndQuery::from_static(method),
            codec,
        )
        .await
    {
        Ok(_) => tonic::Status::ok(""),
        Err(status) => status,
    }
}

async fn health(channel: Result<Channel, tonic::transport::Error>) -> Result<i32, String> {
    let channel = channel.map_err(|e| format!("connect: {e}"))?;
    HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .map(|answer| answer.into_inner().status)
        .map_err(|status| format!("{status:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_accepts_our_client_certificate_and_refuses_none_or_another_ca() {
    let suite = Secure::start().await;
    assert_eq!(
        health(Ok(suite.channel().await)).await,
        Ok(ServingStatus::Serving as i32)
    );
    // No client certificate: the handshake (or the first call over it) is refused.
    assert!(health(suite.channel_with(None).await).await.is_err());
    // A certificate from another CA, however well formed.
    let stranger = DevCa::new("Some other CA")
        .unwrap()
        .client("intruder")
        .unwrap();
    assert!(
        health(
            suite
                .channel_with(Some((stranger.certificate, stranger.key)))
                .await
        )
        .await
        .is_err()
    );
    // Plaintext to a TLS port gets nowhere either.
    let plaintext = Endpoint::from_shared(format!("http://{}", suite.address))
        .unwrap()
        .connect()
        .await;
    assert!(health(plaintext).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_expired_foreign_and_tampered_tokens_are_unauthenticated() {
    let suite = Secure::start().await;
    let channel = suite.channel().await;
    let method = "/rapport.profiles.v1.ProfileService/SearchCustomers";
    let secret = rapport_security::token::read_secret(&suite.material.secret).unwrap();
    let sign = |claims: serde_json::Value, secret: &[u8]| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret).unwrap(),
        )
        .unwrap()
    };
    let now = jiff::Timestamp::now().as_second();
    let claims = |iss: &str, aud: &str, exp: i64| serde_json::json!({"iss": iss, "aud": aud, "sub": "agent-1", "roles": ["agent"], "nbf": now - 5, "exp": exp});
    let good = suite.token("agent-1", &[Role::Agent]);
    // The agent's token with its payload rewritten to claim supervisor; the signature is kept.
    let parts: Vec<&str> = good.split('.').collect();
    let forged_payload = sign(
        serde_json::json!({"iss": "rapport-dev", "aud": "rapport", "sub": "agent-1", "roles": ["supervisor"], "nbf": now - 5, "exp": now + 300}),
        &[1; 40],
    );
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        forged_payload.split('.').nth(1).unwrap(),
        parts[2]
    );
    let cases = [
        ("no token", String::new()),
        (
            "expired",
            sign(claims("rapport-dev", "rapport", now - 120), &secret),
        ),
        (
            "wrong audience",
            sign(claims("rapport-dev", "billing", now + 300), &secret),
        ),
        (
            "wrong issuer",
            sign(claims("someone", "rapport", now + 300), &secret),
        ),
        (
            "another secret",
            sign(claims("rapport-dev", "rapport", now + 300), &[7; 40]),
        ),
        ("tampered", tampered),
    ];
    for (what, token) in cases {
        let status = if token.is_empty() {
            let mut grpc = tonic::client::Grpc::new(channel.clone());
            grpc.ready().await.unwrap();
            grpc.unary(
                Request::new(()),
                http::uri::PathAndQuery::from_static(method),
                tonic_prost::ProstCodec::<(), ()>::default(),
            )
            .await
            .expect_err("refused")
        } else {
            call_empty(&channel, method, &token).await
        };
        assert_eq!(status.code(), Code::Unauthenticated, "{what}: {status:?}");
    }
    assert_ne!(
        call_empty(&channel, method, &good).await.code(),
        Code::Unauthenticated
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_against_every_rpc_gets_exactly_what_the_table_grants() {
    let suite = Secure::start().await;
    let channel = suite.channel().await;
    let mut allowed_seen = 0;
    let mut denied_seen = 0;
    for role in Role::ALL {
        let token = suite.token(&format!("matrix-{role}"), &[role]);
        for rpc in policy::RPCS {
            let status = call_empty(&channel, rpc.method, &token).await;
            assert_ne!(
                status.code(),
                Code::Unauthenticated,
                "{role} {}",
                rpc.method
            );
            assert_ne!(
                status.code(),
                Code::ResourceExhausted,
                "{role} {}",
                rpc.method
            );
            if policy::grants(role, rpc.permission) {
                allowed_seen += 1;
                assert_ne!(
                    status.code(),
                    Code::PermissionDenied,
                    "{role} may call {}: {status:?}",
                    rpc.method
                );
            } else {
                denied_seen += 1;
                assert_eq!(
                    status.code(),
                    Code::PermissionDenied,
                    "{role} may not call {}",
                    rpc.method
                );
                assert!(
                    status.message().contains(rpc.permission.as_str()),
                    "the refusal names the permission: {}",
                    status.message()
                );
            }
        }
    }
    assert!(allowed_seen > 100 && denied_seen > 100);

    // The examples, written out rather than read from the table.
    let expect = [
        (
            Role::Agent,
            "/rapport.profiles.v1.ProfileService/GetCustomer",
            true,
        ),
        (
            Role::Agent,
            "/rapport.plans.v1.PlanService/GetPlanOptions",
            true,
        ),
        (
            Role::Agent,
            "/rapport.plans.v1.PlanService/AcceptPlan",
            true,
        ),
        (
            Role::Agent,
            "/rapport.profiles.v1.ProfileService/EraseCustomer",
            false,
        ),
        (
            Role::Supervisor,
            "/rapport.profiles.v1.ProfileService/EraseCustomer",
            true,
        ),
        (
            Role::BillingSystem,
            "/rapport.plans.v1.AccountService/UpsertAccount",
            true,
        ),
        (
            Role::BillingSystem,
            "/rapport.plans.v1.AccountService/ReportPayment",
            true,
        ),
        (
            Role::BillingSystem,
            "/rapport.plans.v1.PlanService/AcceptPlan",
            false,
        ),
        (
            Role::Supervisor,
            "/rapport.plans.v1.HardshipService/ClearProtection",
            true,
        ),
        (
            Role::Agent,
            "/rapport.plans.v1.HardshipService/ClearProtection",
            false,
        ),
        (
            Role::Service,
            "/rapport.plans.v1.HardshipService/ClearProtection",
            false,
        ),
        (
            Role::Service,
            "/rapport.loyalty.v1.LoyaltyService/IngestEvents",
            true,
        ),
        (
            Role::Auditor,
            "/rapport.audit.v1.AuditService/ListAuditEntries",
            true,
        ),
        (
            Role::Auditor,
            "/rapport.profiles.v1.ProfileService/GetCustomer",
            false,
        ),
        (
            Role::Sre,
            "/rapport.profiles.v1.ProfileService/SearchCustomers",
            false,
        ),
        (
            Role::Supervisor,
            "/rapport.audit.v1.AuditService/ListAuditEntries",
            false,
        ),
    ];
    for (role, method, allowed) in expect {
        let token = suite.token(&format!("example-{role}"), &[role]);
        let denied = call_empty(&channel, method, &token).await.code() == Code::PermissionDenied;
        assert_eq!(!denied, allowed, "{role} {method}");
    }

    // The vulnerability view needs more than the basic view: an agent reads the customer, but
    // not her vulnerability.
    let agent = suite.token("agent-7", &[Role::Agent]);
    let mut profiles = ProfileServiceClient::new(channel.clone());
    let denied = profiles
        .get_customer(with_token(
            profiles::GetCustomerRequest {
                customer_id: "0192f0c0-0000-7000-8000-000000000001".into(),
                view: profiles::CustomerView::WithVulnerability as i32,
            },
            &agent,
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(denied.message().contains("customers.vulnerability.read"));
}

/// One page of profiles' audit trail, narrowed as `request` says.
async fn profiles_trail(
    channel: &Channel,
    token: &str,
    request: audit::ListAuditEntriesRequest,
) -> Vec<audit::AuditEntry> {
    let request = audit::ListAuditEntriesRequest {
        service: "profiles".into(),
        ..request
    };
    AuditServiceClient::new(channel.clone())
        .list_audit_entries(with_token(request, token))
        .await
        .unwrap()
        .into_inner()
        .entries
}

fn new_customer(name: &str) -> profiles::CreateCustomerRequest {
    profiles::CreateCustomerRequest {
        customer: Some(profiles::Customer {
            legal_name: name.into(),
            locale: "en-GB".into(),
            time_zone: "Europe/London".into(),
            ..Default::default()
        }),
        request_id: format!("create-{name}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_and_sensitive_reads_are_audited_in_a_chain_that_detects_tampering() {
    let suite = Secure::start().await;
    let channel = suite.channel().await;
    let agent = suite.token("agent-7", &[Role::Agent]);
    let supervisor = suite.token("supervisor-2", &[Role::Supervisor]);
    let auditor = suite.token("auditor-1", &[Role::Auditor]);
    let mut profiles = ProfileServiceClient::new(channel.clone());

    // A change, carrying the caller's trace context.
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let mut create = with_token(new_customer("Audit Subject"), &agent);
    create.metadata_mut().insert(
        "traceparent",
        format!("00-{trace_id}-00f067aa0ba902b7-01")
            .parse()
            .unwrap(),
    );
    let customer_id = profiles
        .create_customer(create)
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap()
        .customer_id;
    // An ordinary read: not audited.
    let basic = profiles::GetCustomerRequest {
        customer_id: customer_id.clone(),
        view: profiles::CustomerView::Full as i32,
    };
    profiles
        .get_customer(with_token(basic, &agent))
        .await
        .unwrap();
    // A sensitive read by a supervisor, and the same refused to an agent.
    let sensitive = profiles::GetCustomerRequest {
        customer_id: customer_id.clone(),
        view: profiles::CustomerView::WithVulnerability as i32,
    };
    profiles
        .get_customer(with_token(sensitive.clone(), &supervisor))
        .await
        .unwrap();
    profiles
        .get_customer(with_token(sensitive, &agent))
        .await
        .unwrap_err();
    // A change the agent may not make.
    let erase = profiles
        .erase_customer(with_token(
            profiles::EraseCustomerRequest {
                customer_id: customer_id.clone(),
                reason: "right to erasure".into(),
                request_id: "erase-1".into(),
            },
            &agent,
        ))
        .await
        .unwrap_err();
    assert_eq!(erase.code(), Code::PermissionDenied);
    assert!(erase.message().contains("customers.erase"));

    // The auditor reads the trail, two entries a page.
    let mut trail = AuditServiceClient::new(channel.clone());
    let mut entries = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = trail
            .list_audit_entries(with_token(
                audit::ListAuditEntriesRequest {
                    service: "profiles".into(),
                    page: Some(common::PageRequest {
                        page_size: 2,
                        page_token: page_token.clone(),
                    }),
                    ..Default::default()
                },
                &auditor,
            ))
            .await
            .unwrap()
            .into_inner();
        entries.extend(page.entries);
        page_token = page.page.unwrap().next_page_token;
        if page_token.is_empty() {
            break;
        }
    }
    let seen: Vec<(String, String, String, String)> = entries
        .iter()
        .rev()
        .map(|e| {
            (
                e.actor.clone(),
                e.role.clone(),
                e.rpc.rsplit('/').next().unwrap().to_owned(),
                e.outcome.clone(),
            )
        })
        .collect();
    let owned = |a: &str, r: &str, m: &str, o: &str| {
        (a.to_owned(), r.to_owned(), m.to_owned(), o.to_owned())
    };
    assert_eq!(
        seen,
        [
            owned("agent-7", "agent", "CreateCustomer", "OK"),
            owned("supervisor-2", "supervisor", "GetCustomer", "OK"),
            owned("agent-7", "agent", "GetCustomer", "PERMISSION_DENIED"),
            owned("agent-7", "agent", "EraseCustomer", "PERMISSION_DENIED"),
        ],
        "changes and sensitive reads only, in order, newest first across pages"
    );
    let created = &entries[3];
    assert_eq!(created.trace_id, trace_id);
    assert!(
        created
            .targets
            .contains(&format!("customer.customer_id={customer_id}")),
        "{:?}",
        created.targets
    );
    assert!(
        entries[0]
            .targets
            .contains(&format!("customer_id={customer_id}"))
    );
    assert!(created.recorded_at.is_some());

    // Narrowed to one actor.
    let by_supervisor = profiles_trail(
        &channel,
        &auditor,
        audit::ListAuditEntriesRequest {
            actor: "supervisor-2".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(by_supervisor.len(), 1);

    // Intact, and its head is the newest entry.
    let verify = |token: String| {
        let mut trail = trail.clone();
        async move {
            trail
                .verify_audit_chain(with_token(
                    audit::VerifyAuditChainRequest {
                        service: "profiles".into(),
                    },
                    &token,
                ))
                .await
                .unwrap()
                .into_inner()
        }
    };
    let intact = verify(auditor.clone()).await;
    assert!(intact.intact, "{}", intact.problem);
    // The auditor's own reads of the trail are in it too: 2 pages and 1 filtered list.
    assert_eq!(intact.entries_checked, 7);
    let latest = profiles_trail(
        &channel,
        &auditor,
        audit::ListAuditEntriesRequest {
            rpc: "/rapport.audit.v1.AuditService/ListAuditEntries".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(latest.len(), 3);
    assert!(
        latest
            .iter()
            .all(|e| e.actor == "auditor-1" && e.role == "auditor")
    );
    assert_eq!(intact.head_hash, latest[0].hash);

    // Someone with access to the database rewrites who did the sensitive read.
    let database = suite.data.path().join("profiles.db");
    let pool = rapport_storage::Storage::open(&rapport_storage::StorageSettings {
        url: format!("sqlite://{}", database.display()),
        ..rapport_storage::StorageSettings::default()
    })
    .unwrap();
    rapport_storage::sqlx::query("UPDATE audit_log SET actor = 'agent-7' WHERE seq = 2")
        .execute(pool.reader())
        .await
        .unwrap();
    let broken = verify(suite.token("sre-1", &[Role::Sre])).await;
    assert!(!broken.intact);
    assert_eq!(broken.first_broken_sequence, 2);
    assert!(broken.problem.contains("altered"), "{}", broken.problem);

    // The service's trail is named when the process keeps several.
    let unnamed = trail
        .verify_audit_chain(with_token(
            audit::VerifyAuditChainRequest::default(),
            &auditor,
        ))
        .await
        .unwrap_err();
    assert_eq!(unnamed.code(), Code::InvalidArgument);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_caller_and_an_oversized_request_get_resource_exhausted() {
    let data = tempfile::tempdir().unwrap();
    let material = DevMaterial::ensure(&data.path().join("secure")).unwrap();
    let mut server = ServerSettings {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        max_message_bytes: 4096,
        ..ServerSettings::default()
    };
    server.tls = Some(TlsSettings {
        certificate_file: material.server_certificate.clone(),
        key_file: material.server_key.clone(),
        client_ca_file: Some(material.ca.clone()),
    });
    server.auth = rapport_security::AuthSettings {
        mode: rapport_security::AuthMode::Jwt,
        hs256_secret_file: Some(material.secret.clone()),
        ..rapport_security::AuthSettings::default()
    };
    // 2 calls a second with bursts of 5 (an agent's screen, much slowed down).
    server.rate_limit.default = rapport_security::RateLimit {
        per_second: 2.0,
        burst: 5,
    };
    let storage = rapport_storage::StorageSettings {
        url: format!("sqlite://{}", data.path().join("profiles.db").display()),
        ..rapport_storage::StorageSettings::default()
    };
    let unit: ServiceUnit = rapport_profiles::unit(&server, &storage).unwrap();
    let application = Application::build(server, vec![unit]).await.unwrap();
    let suite = Secure::run(application, material, data).await;
    let channel = suite.channel().await;
    let method = "/rapport.profiles.v1.ProfileService/SearchCustomers";

    let flooding = suite.token("agent-flood", &[Role::Agent]);
    let mut codes = Vec::new();
    for _ in 0..8 {
        codes.push(call_empty(&channel, method, &flooding).await.code());
    }
    let refused = codes
        .iter()
        .filter(|c| **c == Code::ResourceExhausted)
        .count();
    assert!(
        (2..=3).contains(&refused),
        "5 in the burst (plus what refilled meanwhile), the rest refused: {codes:?}"
    );
    assert!(codes[..5].iter().all(|c| *c != Code::ResourceExhausted));
    // Another caller is not held back by the first.
    let other = suite.token("agent-calm", &[Role::Agent]);
    assert_ne!(
        call_empty(&channel, method, &other).await.code(),
        Code::ResourceExhausted
    );
    // The server is fine: the flooding caller gets through again after a pause.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_ne!(
        call_empty(&channel, method, &flooding).await.code(),
        Code::ResourceExhausted
    );

    // A request over the message limit is refused whole, not half-read.
    let mut profiles = ProfileServiceClient::new(channel.clone());
    let oversized = profiles
        .create_customer(with_token(new_customer(&"x".repeat(10_000)), &other))
        .await
        .unwrap_err();
    assert_eq!(oversized.code(), Code::ResourceExhausted, "{oversized:?}");
    assert!(oversized.message().contains("4096"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_s_command_line_works_against_the_secured_suite_with_a_token() {
    let suite = Secure::start().await;
    let mut profiles = ProfileServiceClient::new(suite.channel().await);
    let agent_token = suite.token("agent-9", &[Role::Agent]);
    profiles
        .create_customer(with_token(new_customer("Ștefan Agentcheck"), &agent_token))
        .await
        .unwrap();
    let credentials = |token: Option<String>| rapport::agent::Credentials {
        token,
        tls: rapport_clients::ClientSettings {
            ca_file: Some(suite.material.ca.clone()),
            certificate_file: Some(suite.material.client_certificate.clone()),
            key_file: Some(suite.material.client_key.clone()),
            domain_name: Some("localhost".to_owned()),
            token_file: None,
        },
    };
    let address = format!("https://{}", suite.address);
    let connection = rapport::agent::connect_with(&address, &credentials(Some(agent_token)))
        .await
        .unwrap();
    let table = rapport::agent::customer_find(connection, "stefan")
        .await
        .unwrap();
    assert!(table.contains("Ștefan Agentcheck"), "{table}");
    // Without a token the same command is refused, and says why.
    let connection = rapport::agent::connect_with(&address, &credentials(None))
        .await
        .unwrap();
    let refused = rapport::agent::customer_find(connection, "stefan")
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("Unauthenticated"), "{refused}");
}

/// Actors come from the token (issue 21): an agent cannot record an action in another agent's
/// name, an actor left out is refused as the contract says (not filled in), and the service role
/// may act for someone, which the trail records beside the service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_person_a_request_names_as_acting_is_the_caller() {
    let suite = Secure::start().await;
    let channel = suite.channel().await;
    let agent = suite.token("agent-7", &[Role::Agent]);
    let service = suite.token("rapport-loyalty", &[Role::Service]);
    let auditor = suite.token("auditor-1", &[Role::Auditor]);
    let mut profiles = ProfileServiceClient::new(channel.clone());
    let customer_id = profiles
        .create_customer(with_token(new_customer("Acting Subject"), &agent))
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap()
        .customer_id;
    let interaction = |agent_id: &str| profiles::RecordInteractionRequest {
        interaction: Some(profiles::Interaction {
            customer_id: customer_id.clone(),
            channel: common::Channel::Phone as i32,
            agent_id: agent_id.to_owned(),
            ..Default::default()
        }),
        request_id: String::new(),
    };

    // In another agent's name: refused, and the refusal is audited.
    let refused = profiles
        .record_interaction(with_token(interaction("agent-9"), &agent))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert!(
        refused.message().contains("interaction.agent_id"),
        "{refused:?}"
    );
    // Left out: self-service, as without a token.
    let recorded = profiles
        .record_interaction(with_token(interaction(""), &agent))
        .await
        .unwrap()
        .into_inner()
        .interaction
        .unwrap();
    assert_eq!(recorded.agent_id, "");
    // Named: the caller itself.
    let recorded = profiles
        .record_interaction(with_token(interaction("agent-7"), &agent))
        .await
        .unwrap()
        .into_inner()
        .interaction
        .unwrap();
    assert_eq!(recorded.agent_id, "agent-7");

    // An Actor message: another agent refused, left out filled in with the caller's kind.
    let commitment = |promised_by: Option<common::Actor>| profiles::RecordCommitmentRequest {
        commitment: Some(profiles::Commitment {
            customer_id: customer_id.clone(),
            description: "call back with the statement".into(),
            promised_by,
            due_date: Some(common::Date {
                year: 2030,
                month: 1,
                day: 15,
            }),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let other = common::Actor {
        kind: common::ActorKind::Agent as i32,
        id: "agent-9".into(),
    };
    let refused = profiles
        .record_commitment(with_token(commitment(Some(other.clone())), &agent))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert!(
        refused.message().contains("commitment.promised_by"),
        "{refused:?}"
    );
    // Left out: the contract's INVALID_ARGUMENT naming the field, as without a token (the
    // server does not fill it in).
    let missing = profiles
        .record_commitment(with_token(commitment(None), &agent))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::InvalidArgument, "{missing:?}");
    assert!(missing.message().contains("promised_by"), "{missing:?}");
    let own = common::Actor {
        kind: common::ActorKind::Agent as i32,
        id: "agent-7".into(),
    };
    let promised = profiles
        .record_commitment(with_token(commitment(Some(own.clone())), &agent))
        .await
        .unwrap()
        .into_inner()
        .commitment
        .unwrap()
        .promised_by
        .unwrap();
    assert_eq!(promised, own);

    // The service role acts for agent-9: allowed, and the trail says both.
    profiles
        .record_interaction(with_token(interaction("agent-9"), &service))
        .await
        .unwrap();
    let trail = profiles_trail(
        &channel,
        &auditor,
        audit::ListAuditEntriesRequest {
            rpc: "/rapport.profiles.v1.ProfileService/RecordInteraction".into(),
            ..Default::default()
        },
    )
    .await;
    let by_service = trail
        .iter()
        .find(|entry| entry.actor == "rapport-loyalty")
        .expect("the service's call is audited");
    assert_eq!(by_service.outcome, "OK");
    assert!(
        by_service
            .targets
            .contains(&"on_behalf_of=agent-9".to_owned()),
        "{by_service:?}"
    );
    assert!(
        trail
            .iter()
            .any(|entry| entry.actor == "agent-7" && entry.outcome == "PERMISSION_DENIED"),
        "{trail:?}"
    );
}

/// A call without any `authorization` header, by path, with an empty request.
async fn call_without_token(channel: &Channel, method: &'static str) -> tonic::Status {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.unwrap();
    grpc.unary(
        Request::new(()),
        http::uri::PathAndQuery::from_static(method),
        tonic_prost::ProstCodec::<(), ()>::default(),
    )
    .await
    .expect_err("refused")
}

/// The entries of refused authentications in one service's trail, newest first.
async fn refusal_entries(
    channel: &Channel,
    auditor: &str,
    service: &str,
) -> Vec<audit::AuditEntry> {
    AuditServiceClient::new(channel.clone())
        .list_audit_entries(with_token(
            audit::ListAuditEntriesRequest {
                service: service.into(),
                actor: "unauthenticated".into(),
                ..Default::default()
            },
            auditor,
        ))
        .await
        .unwrap()
        .into_inner()
        .entries
}

/// How many refusals an entry covers (its `count=N` target).
fn refusal_count(targets: &[String]) -> u64 {
    targets
        .iter()
        .find_map(|target| target.strip_prefix("count="))
        .expect("a refusal entry carries its count")
        .parse()
        .unwrap()
}

/// Refused authentications are invalid access attempts and go to the trail (issue 21; PCI DSS
/// 10.2.1.4) with where they came from and why: one alone is there at once; a flood of 10,000
/// adds a handful of entries, not 10,000, whose counts add up to every refusal once the counts
/// kept in memory are written (at the latest when the server stops).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_authentications_are_audited_with_source_and_reason_and_a_flood_as_counts() {
    let mut suite = Secure::start().await;
    let channel = suite.channel().await;
    let auditor = suite.token("auditor-1", &[Role::Auditor]);

    // One change without a token: in plans' trail at once, with its source and reason.
    let upsert = "/rapport.plans.v1.AccountService/UpsertAccount";
    assert_eq!(
        call_without_token(&channel, upsert).await.code(),
        Code::Unauthenticated
    );
    let single = refusal_entries(&channel, &auditor, "plans").await;
    assert_eq!(single.len(), 1, "{single:?}");
    let entry = &single[0];
    assert_eq!(
        (
            entry.actor.as_str(),
            entry.role.as_str(),
            entry.rpc.as_str(),
            entry.outcome.as_str()
        ),
        ("unauthenticated", "none", upsert, "UNAUTHENTICATED")
    );
    for target in ["source=127.0.0.1", "reason=missing", "count=1"] {
        assert!(
            entry.targets.contains(&target.to_owned()),
            "{target}: {entry:?}"
        );
    }
    // A read is an access attempt too: recorded in the trail of the service it tried.
    let nps = "/rapport.loyalty.v1.LoyaltyService/GetNps";
    // Not a JWT at all: malformed.
    let malformed = "not-a-token";
    assert_eq!(
        call_empty(&channel, nps, malformed).await.code(),
        Code::Unauthenticated
    );
    let read = refusal_entries(&channel, &auditor, "loyalty").await;
    assert_eq!(read.len(), 1, "{read:?}");
    assert_eq!(read[0].rpc, nps);
    assert!(
        read[0].targets.contains(&"reason=malformed".to_owned()),
        "{read:?}"
    );

    // 10,000 calls with a token signed by another key, many at a time, to a change.
    let create = "/rapport.profiles.v1.ProfileService/CreateCustomer";
    let forged = mint_hs256(
        &[7; 40],
        "intruder",
        &[Role::Supervisor],
        Duration::from_secs(600),
    )
    .unwrap();
    const FLOOD: u64 = 10_000;
    use futures_util::StreamExt;
    let channels = [
        channel.clone(),
        suite.channel().await,
        suite.channel().await,
        suite.channel().await,
    ];
    let codes: Vec<Code> = futures_util::stream::iter(0..FLOOD)
        .map(|n| {
            let channel = channels[usize::try_from(n).unwrap() % channels.len()].clone();
            let forged = forged.clone();
            async move { call_empty(&channel, create, &forged).await.code() }
        })
        .buffer_unordered(256)
        .collect()
        .await;
    assert!(codes.iter().all(|code| *code == Code::Unauthenticated));

    // The first is in the trail at once; the rest are counted, not written one by one.
    let flooded = refusal_entries(&channel, &auditor, "profiles").await;
    assert!(
        (1..=3).contains(&flooded.len()),
        "a bounded handful of entries for one source within a minute: {} {flooded:?}",
        flooded.len()
    );
    let first = flooded.last().unwrap();
    assert_eq!(first.rpc, create);
    for target in ["source=127.0.0.1", "reason=bad_signature", "count=1"] {
        assert!(
            first.targets.contains(&target.to_owned()),
            "{target}: {first:?}"
        );
    }
    let so_far: u64 = flooded.iter().map(|e| refusal_count(&e.targets)).sum();
    assert!(so_far <= FLOOD, "{so_far}");
    assert!(
        flooded
            .iter()
            .all(|e| e.targets.iter().all(|t| !t.contains(&forged))),
        "never the token"
    );
    let intact = AuditServiceClient::new(channel.clone())
        .verify_audit_chain(with_token(
            audit::VerifyAuditChainRequest {
                service: "profiles".into(),
            },
            &auditor,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(intact.intact, "{}", intact.problem);

    // The server stops: what was counted is written before its storage closes.
    drop(channels);
    drop(channel);
    suite.stop.take().unwrap().send(()).unwrap();
    let database = suite.data.path().join("profiles.db");
    let pool = rapport_storage::Storage::open(&rapport_storage::StorageSettings {
        url: format!("sqlite://{}", database.display()),
        ..rapport_storage::StorageSettings::default()
    })
    .unwrap();
    let mut written = Vec::new();
    for _ in 0..400 {
        let rows: Vec<(String,)> = rapport_storage::sqlx::query_as(
            "SELECT targets FROM audit_log WHERE actor = 'unauthenticated' ORDER BY seq",
        )
        .fetch_all(pool.reader())
        .await
        .unwrap();
        written = rows
            .into_iter()
            .map(|(targets,)| serde_json::from_str::<Vec<String>>(&targets).unwrap())
            .collect();
        if written.iter().map(|t| refusal_count(t)).sum::<u64>() == FLOOD {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let total: u64 = written.iter().map(|t| refusal_count(t)).sum();
    assert_eq!(total, FLOOD, "every refusal is counted once: {written:?}");
    assert!((2..=3).contains(&written.len()), "{written:?}");
    let aggregate = written.last().unwrap();
    assert!(
        aggregate.contains(&"source=127.0.0.1".to_owned())
            && aggregate.contains(&"reason=bad_signature".to_owned()),
        "{aggregate:?}"
    );
}
