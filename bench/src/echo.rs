//! The baseline for GetCustomer: a bare tonic server on the same path, with the suite's codec,
//! answering every call with one fixed GetCustomerResponse captured from the suite (so the same
//! encoded size). No layers, no storage: what tonic alone costs for this message.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use prost::Message;
use rapport_proto::codec::RapportCodec;
use rapport_proto::profiles::v1::{GetCustomerRequest, GetCustomerResponse};
use tonic::codegen::{BoxFuture, Service, http};
use tonic::server::{Grpc, NamedService, UnaryService};

pub(crate) const GET_CUSTOMER: &str = "/rapport.profiles.v1.ProfileService/GetCustomer";

/// `rapport-bench echo-server`: serves until killed.
pub(crate) fn serve(listen: SocketAddr, response: &Path) -> anyhow::Result<bool> {
    let bytes = std::fs::read(response).context("reading the response to answer with")?;
    let answer = GetCustomerResponse::decode(bytes.as_slice()).context("decoding the response")?;
    // Like the suite's server: a multi-threaded runtime on the one core it is pinned to.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        tonic::transport::Server::builder()
            .tcp_nodelay(true)
            .add_service(Echo {
                answer: Arc::new(answer),
            })
            .serve(listen)
            .await
    })?;
    Ok(true)
}

#[derive(Debug, Clone)]
struct Echo {
    answer: Arc<GetCustomerResponse>,
}

impl NamedService for Echo {
    const NAME: &'static str = "rapport.profiles.v1.ProfileService";
}

impl UnaryService<GetCustomerRequest> for Echo {
    type Response = GetCustomerResponse;
    type Future = BoxFuture<tonic::Response<Self::Response>, tonic::Status>;

    fn call(&mut self, _request: tonic::Request<GetCustomerRequest>) -> Self::Future {
        let answer = GetCustomerResponse::clone(&self.answer);
        Box::pin(async move { Ok(tonic::Response::new(answer)) })
    }
}

impl Service<http::Request<tonic::body::Body>> for Echo {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        let echo = self.clone();
        Box::pin(async move {
            if request.uri().path() == GET_CUSTOMER {
                let mut grpc =
                    Grpc::new(RapportCodec::<GetCustomerResponse, GetCustomerRequest>::default());
                Ok(grpc.unary(echo, request).await)
            } else {
                Ok(tonic::Status::unimplemented("only GetCustomer").into_http())
            }
        })
    }
}
