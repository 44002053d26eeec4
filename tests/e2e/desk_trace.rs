//! One overview is one trace: the desk's server span, and under it the server spans of every
//! service it asked (DESIGN.md: one customer journey is one trace across every service it
//! touches).

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use opentelemetry::trace::TraceContextExt;
use rapport::{agent, demo};
use rapport_e2e::Suite;
use rapport_proto::desk::v1 as pb;
use rapport_proto::desk::v1::desk_service_client::DeskServiceClient;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::support::telemetry;

/// The package of a server span's `rpc.service`: `rapport.plans.v1.PlanService` → `plans`.
fn service_of(span: &opentelemetry_sdk::trace::SpanData) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == "rpc.service")
        .map(|kv| kv.value.to_string())
        .and_then(|s| s.split('.').nth(1).map(str::to_owned))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_overview_is_one_trace_with_server_spans_from_all_four_services() {
    let suite = Suite::start().await;
    let dir = tempfile::tempdir().unwrap();
    demo::seed_when_ready(&suite.url, dir.path())
        .await
        .unwrap()
        .expect("seeded");
    let stefan = ProfileServiceClient::new(suite.channel.clone())
        .search_customers(profiles::SearchCustomersRequest {
            name: demo::IN_HARDSHIP.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .customers
        .remove(0)
        .customer_id;
    // An agent's tool: its channel injects the trace context, as desk's own channels do.
    let connection = agent::connect(&suite.url).await.unwrap();
    let mut desk = DeskServiceClient::new(connection);
    let request = || pb::GetCustomerOverviewRequest {
        customer_id: stefan.clone(),
        channel: 0,
    };
    // Desk's channels connect on first use; the overview judged is the next one.
    desk.get_customer_overview(request()).await.unwrap();

    let (_recording, exporter, provider) = telemetry::recorded();
    let looked_up = tracing::info_span!("agent_looks_up_a_customer");
    let trace_id = looked_up.context().span().span_context().trace_id();
    desk.get_customer_overview(request())
        .instrument(looked_up.clone())
        .await
        .unwrap();
    drop(looked_up);

    let wanted = ["desk", "loyalty", "plans", "profiles", "referrals"];
    let mut spans = Vec::new();
    let mut services = BTreeSet::new();
    for _ in 0..250 {
        provider.force_flush().unwrap();
        spans = exporter
            .get_finished_spans()
            .unwrap()
            .into_iter()
            .filter(|s| s.span_context.trace_id() == trace_id)
            .collect();
        services = spans.iter().filter_map(service_of).collect();
        // Spans export as they close: wait until every parent but the agent's has closed too.
        let ids: HashSet<_> = spans.iter().map(|s| s.span_context.span_id()).collect();
        let orphans = spans
            .iter()
            .filter(|s| !ids.contains(&s.parent_span_id))
            .count();
        if wanted.iter().all(|s| services.contains(*s)) && orphans <= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        services.iter().map(String::as_str).collect::<Vec<_>>(),
        wanted,
        "server spans in the overview's trace"
    );
    let ids: HashSet<_> = spans.iter().map(|s| s.span_context.span_id()).collect();
    let roots: Vec<_> = spans
        .iter()
        .filter(|s| !ids.contains(&s.parent_span_id))
        .map(|s| s.name.to_string())
        .collect();
    assert_eq!(
        roots,
        ["agent_looks_up_a_customer"],
        "every span's parent is in the trace but the agent's"
    );
    suite.stop().await.unwrap();
}
