//! The server's life: not ready until storage is, refusing calls meanwhile; a deadline per call;
//! graceful shutdown that lets calls in flight finish, bounded by a grace period.

use std::net::SocketAddr;
use std::time::Duration;

use rapport_proto::loyalty::v1::loyalty_service_client::LoyaltyServiceClient;
use rapport_proto::loyalty::v1::loyalty_service_server::{LoyaltyService, LoyaltyServiceServer};
use rapport_proto::loyalty::v1::{GetNpsRequest, GetNpsResponse};
use rapport_server::{Application, ServerError, ServerSettings, ServiceUnit};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_stream::StreamExt;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Response, Status};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const LOYALTY: &str = "rapport.loyalty.v1.LoyaltyService";

/// The RPCs this fake does not serve (the generated trait has no default stubs: a real service
/// must implement every RPC of the contract).
macro_rules! unused_rpcs {
    ($($name:ident($request:ident) -> $response:ident;)+) => {
        // As `async_trait` writes them (it does not see into a macro's output).
        $(
            fn $name<'life0, 'async_trait>(
                &'life0 self,
                _request: Request<rapport_proto::loyalty::v1::$request>,
            ) -> std::pin::Pin<Box<
                dyn std::future::Future<
                        Output = Result<Response<rapport_proto::loyalty::v1::$response>, Status>,
                    > + Send
                    + 'async_trait,
            >>
            where
                'life0: 'async_trait,
                Self: 'async_trait,
            {
                Box::pin(async { Err(Status::unimplemented("not part of this test")) })
            }
        )+
    };
}

/// A loyalty service whose `GetNps` takes `delay`, telling the test when a call has started.
#[derive(Debug, Clone)]
struct SlowLoyalty {
    started: mpsc::UnboundedSender<()>,
    delay: Duration,
}

#[tonic::async_trait]
impl LoyaltyService for SlowLoyalty {
    async fn get_nps(
        &self,
        _request: Request<GetNpsRequest>,
    ) -> Result<Response<GetNpsResponse>, Status> {
        let _ = self.started.send(());
        tokio::time::sleep(self.delay).await; // the slow work itself, not synchronisation
        Ok(Response::new(GetNpsResponse {
            n: 42,
            ..GetNpsResponse::default()
        }))
    }

    unused_rpcs! {
        record_survey_response(RecordSurveyResponseRequest) -> RecordSurveyResponseResponse;
        should_survey(ShouldSurveyRequest) -> ShouldSurveyResponse;
        list_follow_ups(ListFollowUpsRequest) -> ListFollowUpsResponse;
        close_follow_up(CloseFollowUpRequest) -> CloseFollowUpResponse;
        get_loyalty_score(GetLoyaltyScoreRequest) -> GetLoyaltyScoreResponse;
        get_score_history(GetScoreHistoryRequest) -> GetScoreHistoryResponse;
        list_at_risk(ListAtRiskRequest) -> ListAtRiskResponse;
        issue_anniversary_rewards(IssueAnniversaryRewardsRequest) -> IssueAnniversaryRewardsResponse;
        list_rewards(ListRewardsRequest) -> ListRewardsResponse;
        record_recognition(RecordRecognitionRequest) -> RecordRecognitionResponse;
        ingest_events(IngestEventsRequest) -> IngestEventsResponse;
    }
}

struct Running {
    address: SocketAddr,
    started: mpsc::UnboundedReceiver<()>,
    stop: oneshot::Sender<()>,
    server: JoinHandle<Result<(), ServerError>>,
}

async fn start(
    settings: ServerSettings,
    delay: Duration,
    configure: impl FnOnce(ServiceUnit) -> ServiceUnit,
) -> Running {
    let (started_tx, started) = mpsc::unbounded_channel();
    let unit = ServiceUnit::new("loyalty", rapport_proto::FILE_DESCRIPTOR_SET).serve(
        LoyaltyServiceServer::new(SlowLoyalty {
            started: started_tx,
            delay,
        }),
    );
    let application = Application::build(
        ServerSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..settings
        },
        vec![configure(unit)],
    )
    .await
    .expect("binds");
    let address = application.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    Running {
        address,
        started,
        stop,
        server,
    }
}

async fn channel(address: SocketAddr) -> Channel {
    Endpoint::from_shared(format!("http://{address}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect")
}

async fn health_of(channel: &Channel, service: &str) -> i32 {
    HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .expect("health answers")
        .into_inner()
        .status
}

async fn wait_until_serving(channel: &Channel, service: &str) {
    let mut updates = HealthClient::new(channel.clone())
        .watch(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .expect("watch")
        .into_inner();
    while let Some(update) = updates.next().await {
        if update.expect("update").status == ServingStatus::Serving as i32 {
            return;
        }
    }
    panic!("never SERVING");
}

#[tokio::test]
async fn a_call_in_flight_completes_after_the_shutdown_signal() {
    let mut running = start(ServerSettings::default(), Duration::from_millis(300), |u| u).await;
    let channel = channel(running.address).await;
    wait_until_serving(&channel, LOYALTY).await;

    let mut client = LoyaltyServiceClient::new(channel.clone());
    let call = tokio::spawn(async move { client.get_nps(GetNpsRequest::default()).await });
    running
        .started
        .recv()
        .await
        .expect("the call reached the handler");
    running
        .stop
        .send(())
        .expect("server listening for the signal");

    let answer = call
        .await
        .expect("task")
        .expect("the call in flight completes");
    assert_eq!(answer.into_inner().n, 42);
    running
        .server
        .await
        .expect("server task")
        .expect("a clean stop");
    assert!(
        Endpoint::from_shared(format!("http://{}", running.address))
            .expect("endpoint")
            .connect()
            .await
            .is_err(),
        "no new connections after shutdown"
    );
}

#[tokio::test]
async fn a_call_outliving_the_grace_period_does_not_hold_the_process() {
    let settings = ServerSettings {
        shutdown_grace_ms: 100,
        ..ServerSettings::default()
    };
    let mut running = start(settings, Duration::from_secs(3600), |u| u).await;
    let channel = channel(running.address).await;
    wait_until_serving(&channel, LOYALTY).await;
    let mut client = LoyaltyServiceClient::new(channel);
    let _call = tokio::spawn(async move { client.get_nps(GetNpsRequest::default()).await });
    running.started.recv().await.expect("in the handler");
    running.stop.send(()).expect("signal");
    tokio::time::timeout(Duration::from_secs(10), running.server)
        .await
        .expect("stops after the grace period, not after the hour-long call")
        .expect("task")
        .expect("clean stop");
}

#[tokio::test]
async fn a_call_past_the_deadline_is_deadline_exceeded() {
    let settings = ServerSettings {
        request_timeout_ms: 50,
        ..ServerSettings::default()
    };
    let running = start(settings, Duration::from_secs(3600), |u| u).await;
    let channel = channel(running.address).await;
    wait_until_serving(&channel, LOYALTY).await;
    let status = LoyaltyServiceClient::new(channel)
        .get_nps(GetNpsRequest::default())
        .await
        .expect_err("too slow");
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(status.message().contains("50 ms"), "{status:?}");
    running.stop.send(()).expect("signal");
}

#[tokio::test]
async fn not_serving_and_unavailable_until_storage_is_ready() {
    let (ready, becomes_ready) = oneshot::channel::<()>();
    let running = start(ServerSettings::default(), Duration::ZERO, |unit| {
        unit.ready_when(async move {
            becomes_ready.await?;
            Ok(())
        })
    })
    .await;
    let channel = channel(running.address).await;

    assert_eq!(
        health_of(&channel, LOYALTY).await,
        ServingStatus::NotServing as i32
    );
    assert_eq!(
        health_of(&channel, "").await,
        ServingStatus::NotServing as i32
    );
    let refused = LoyaltyServiceClient::new(channel.clone())
        .get_nps(GetNpsRequest::default())
        .await
        .expect_err("not ready");
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");

    ready.send(()).expect("unit waiting");
    wait_until_serving(&channel, LOYALTY).await;
    wait_until_serving(&channel, "").await;
    let answer = LoyaltyServiceClient::new(channel)
        .get_nps(GetNpsRequest::default())
        .await
        .expect("ready now");
    assert_eq!(answer.into_inner().n, 42);
    running.stop.send(()).expect("signal");
}

#[tokio::test]
async fn unreachable_storage_keeps_the_service_not_serving() {
    let storage = rapport_storage::Storage::open(&rapport_storage::StorageSettings {
        url: "postgres://postgres@127.0.0.1:1/nowhere".to_owned(),
        acquire_timeout_ms: 100,
        ..rapport_storage::StorageSettings::default()
    })
    .expect("lazy");
    let running = start(ServerSettings::default(), Duration::ZERO, |unit| {
        unit.with_storage(storage, rapport_storage::Migrations(&[]))
    })
    .await;
    let channel = channel(running.address).await;
    assert_eq!(
        health_of(&channel, LOYALTY).await,
        ServingStatus::NotServing as i32
    );
    running.stop.send(()).expect("signal");
    running
        .server
        .await
        .expect("task")
        .expect("stops while still waiting for storage");
}

#[tokio::test]
async fn a_unit_that_cannot_become_ready_stops_the_server_with_its_error() {
    let running = start(ServerSettings::default(), Duration::ZERO, |unit| {
        unit.ready_when(async { Err("migration 3 failed".into()) })
    })
    .await;
    let error = running
        .server
        .await
        .expect("task")
        .expect_err("not ready is fatal");
    assert!(
        matches!(
            error,
            ServerError::NotReady {
                service: "loyalty",
                ..
            }
        ),
        "{error:?}"
    );
}

/// A background worker starts only once its unit is ready, and is told to stop at shutdown and
/// waited for before the server returns.
#[tokio::test]
async fn a_worker_runs_from_ready_until_shutdown() {
    let (ready_tx, ready_rx) = oneshot::channel::<()>();
    let (events_tx, mut events) = mpsc::unbounded_channel::<&'static str>();
    let running = start(ServerSettings::default(), Duration::ZERO, move |unit| {
        unit.ready_when(async move {
            let _ = ready_rx.await;
            Ok(())
        })
        .with_worker(move |mut stopping| async move {
            let _ = events_tx.send("started");
            stopping.stopped().await;
            let _ = events_tx.send("stopping");
        })
    })
    .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(events.try_recv().is_err(), "not before the unit is ready");
    let _ = ready_tx.send(());
    assert_eq!(events.recv().await, Some("started"));
    let _ = running.stop.send(());
    running
        .server
        .await
        .expect("server task")
        .expect("clean stop");
    // The server returned only after the worker finished.
    assert_eq!(events.try_recv(), Ok("stopping"));
}
