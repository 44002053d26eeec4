//! What an SRE reads on the admin port: Prometheus metrics after real calls, `/livez`, `/readyz`
//! and gRPC health in plaintext for Kubernetes' probes.

use std::net::SocketAddr;

use rapport::agent;
use rapport_e2e::{Suite, hardship};
use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as plans;
use rapport_proto::plans::v1::plan_service_client::PlanServiceClient;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// A plain HTTP/1.1 GET, as Prometheus or `curl` sends it: (status, content type, body).
async fn get(admin: SocketAddr, path: &str) -> (u16, String, String) {
    let mut stream = tokio::net::TcpStream::connect(admin).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {admin}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase()
                .strip_prefix("content-type: ")
                .map(str::to_owned)
        })
        .unwrap_or_default();
    (status, content_type, body.to_owned())
}

/// The value of the series written exactly as `series` (name and labels), if present.
fn value(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn call(service: &str, method: &str, code: &str) -> String {
    format!(
        r#"{{rpc_system_name="grpc",rpc_service="{service}",rpc_method="{method}",rpc_response_status_code="{code}"}}"#
    )
}

const PROFILES: &str = "rapport.profiles.v1.ProfileService";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_calls_by_service_method_and_code_and_read_the_services_state() {
    let suite = Suite::start().await;
    let admin = suite.admin.unwrap();
    let mut profiles_client = ProfileServiceClient::new(suite.channel.clone());

    // Two customers created (OK), one looked up that does not exist (NOT_FOUND), one asked for
    // with a malformed id (INVALID_ARGUMENT).
    let mut customers = Vec::new();
    for name in ["Ana Ionescu", "Bob Stone"] {
        let created = profiles_client
            .create_customer(profiles::CreateCustomerRequest {
                customer: Some(profiles::Customer {
                    legal_name: name.into(),
                    locale: "en-GB".into(),
                    time_zone: "Europe/London".into(),
                    customer_since: Some(common::Date {
                        year: 2018,
                        month: 3,
                        day: 1,
                    }),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap();
        customers.push(created.into_inner().customer.unwrap().customer_id);
    }
    let missing = profiles_client
        .get_customer(profiles::GetCustomerRequest {
            customer_id: "0190f0c8-7a1e-7c3b-9a4e-1d2c3b4a5f60".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let malformed = profiles_client
        .get_customer(profiles::GetCustomerRequest {
            customer_id: "not-an-id".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(malformed.code(), Code::InvalidArgument);

    // One plan accepted, so plans by state has something to count.
    let connection = agent::connect(&suite.url).await.unwrap();
    let account = hardship::account_behind(&connection, &customers[0], "GB-OPS-1", 35).await;
    let case = hardship::case_with_statement(&connection, &customers[0], &account).await;
    let option = PlanServiceClient::new(suite.channel.clone())
        .get_plan_options(plans::GetPlanOptionsRequest {
            account_id: account.clone(),
            case_id: case.clone(),
            payday: 0,
            locale: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .options
        .remove(0);
    agent::plan_accept(
        agent::connect(&suite.url).await.unwrap(),
        &account,
        &case,
        &option.option_id,
        "agent-5",
        "call-ops-1",
    )
    .await
    .unwrap();

    let (status, content_type, metrics) = get(admin, "/metrics").await;
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );

    // Calls: a histogram by service, method and code; _count is the number of calls.
    assert!(
        metrics.contains("# TYPE rpc_server_call_duration_seconds histogram"),
        "{metrics}"
    );
    assert!(metrics.contains("# UNIT rpc_server_call_duration_seconds seconds"));
    let created = call(PROFILES, "CreateCustomer", "OK");
    assert_eq!(
        value(
            &metrics,
            &format!("rpc_server_call_duration_seconds_count{created}")
        ),
        Some(2.0)
    );
    let not_found = call(PROFILES, "GetCustomer", "NOT_FOUND");
    assert_eq!(
        value(
            &metrics,
            &format!("rpc_server_call_duration_seconds_count{not_found}")
        ),
        Some(1.0)
    );
    let invalid = call(PROFILES, "GetCustomer", "INVALID_ARGUMENT");
    assert_eq!(
        value(
            &metrics,
            &format!("rpc_server_call_duration_seconds_count{invalid}")
        ),
        Some(1.0)
    );
    // Buckets are cumulative: everything is under +Inf, and the sum is a positive duration.
    let all_buckets = created.replacen('{', r#"{le="+Inf","#, 1);
    assert_eq!(
        value(
            &metrics,
            &format!("rpc_server_call_duration_seconds_bucket{all_buckets}")
        ),
        Some(2.0)
    );
    let sum = value(
        &metrics,
        &format!("rpc_server_call_duration_seconds_sum{created}"),
    )
    .unwrap();
    assert!(sum > 0.0 && sum < 10.0, "{sum}");
    // The agent's accept went through the plans service and was counted there.
    let accepted = call("rapport.plans.v1.PlanService", "AcceptPlan", "OK");
    assert_eq!(
        value(
            &metrics,
            &format!("rpc_server_call_duration_seconds_count{accepted}")
        ),
        Some(1.0)
    );
    // Nothing is in flight once the calls have returned.
    assert_eq!(
        value(
            &metrics,
            &format!(r#"rpc_server_active_calls{{rpc_service="{PROFILES}"}}"#)
        ),
        Some(0.0)
    );

    // Each service's storage, read at scrape time.
    for service in ["profiles", "plans", "referrals", "loyalty"] {
        assert_eq!(
            value(
                &metrics,
                &format!(r#"rapport_storage_up{{service="{service}"}}"#)
            ),
            Some(1.0),
            "{service}"
        );
        // SQLite: one writer connection and a pool of readers.
        assert_eq!(
            value(
                &metrics,
                &format!(
                    r#"db_client_connection_max{{db_client_connection_pool_name="{service}.writer"}}"#
                )
            ),
            Some(1.0)
        );
        assert!(value(&metrics, &format!(r#"db_client_connection_count{{db_client_connection_pool_name="{service}.readers",db_client_connection_state="idle"}}"#)).is_some());
        let backlog = value(
            &metrics,
            &format!(r#"rapport_outbox_backlog_events{{service="{service}"}}"#),
        )
        .unwrap();
        let age = value(
            &metrics,
            &format!(r#"rapport_outbox_oldest_event_age_seconds{{service="{service}"}}"#),
        )
        .unwrap();
        assert!(
            backlog >= 0.0 && age >= 0.0 && (backlog > 0.0 || age == 0.0),
            "{service}: {backlog} {age}"
        );
    }
    assert_eq!(
        value(
            &metrics,
            r#"rapport_plans_payment_plans{state="active",service="plans"}"#
        ),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        value(
            &metrics,
            r#"rapport_plans_payment_plans{state="broken",service="plans"}"#
        ),
        Some(0.0)
    );
    assert_eq!(
        value(
            &metrics,
            r#"rapport_loyalty_follow_ups_overdue{service="loyalty"}"#
        ),
        Some(0.0)
    );
    assert!(metrics.trim_end().ends_with("# EOF"));

    // Probes: alive, ready, and gRPC health in plaintext on the admin port.
    assert_eq!(get(admin, "/livez").await.0, 200);
    let (status, _, body) = get(admin, "/readyz").await;
    assert_eq!((status, body.as_str()), (200, "ready\n"));
    let admin_channel = tonic::transport::Endpoint::from_shared(format!("http://{admin}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(admin_channel);
    for service in ["", "rapport.plans.v1.PlanService", PROFILES] {
        let answer = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(answer.status, ServingStatus::Serving as i32, "{service:?}");
    }
    assert_eq!(get(admin, "/nothing-here").await.0, 404);

    suite.stop().await.unwrap();
}
