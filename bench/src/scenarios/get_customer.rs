//! GetCustomer with the FULL view on `rapport dev` (SQLite), against a bare tonic server that
//! answers the same message on the same path.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use prost::Message;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_proto::profiles::v1::{CustomerView, GetCustomerRequest};
use tonic::transport::Channel;

use super::{Dev, first, measure, settle, verify};
use crate::load::{self, Worker};
use crate::process::{self, Server};
use crate::report::{self, Row, mib, millis, ratio};
use crate::{Options, seed};

/// Customers read in turn, so the reads are not all of one row.
const CUSTOMERS: usize = 200;
const PROFILES: &str = "rapport.profiles.v1.ProfileService";

struct Reader {
    client: ProfileServiceClient<Channel>,
    customers: Arc<Vec<String>>,
    next: usize,
}

impl Worker for Reader {
    async fn call(&mut self) -> (&'static str, Result<(), tonic::Status>) {
        let customer_id = self.customers[self.next % self.customers.len()].clone();
        self.next += 1;
        let outcome = self
            .client
            .get_customer(GetCustomerRequest {
                customer_id,
                view: CustomerView::Full as i32,
            })
            .await;
        ("GetCustomer", outcome.map(drop))
    }
}

fn readers(channels: &[Channel], clients: usize, customers: &Arc<Vec<String>>) -> Vec<Reader> {
    (0..clients)
        .map(|i| Reader {
            client: ProfileServiceClient::new(channels[i % channels.len()].clone()),
            customers: customers.clone(),
            // Spread the workers over the customers.
            next: i * CUSTOMERS / clients.max(1),
        })
        .collect()
}

pub(super) async fn run(options: &Options) -> anyhow::Result<Vec<Row>> {
    let mut dev = Dev::start(options, false).await?;
    let channels = load::connect(dev.address, options.connections).await?;
    let mut customers = Vec::new();
    for n in 0..CUSTOMERS {
        customers.push(seed::customer(first(&channels)?, n).await?);
    }
    let answer = ProfileServiceClient::new(first(&channels)?.clone())
        .get_customer(GetCustomerRequest {
            customer_id: customers[0].clone(),
            view: CustomerView::Full as i32,
        })
        .await
        .context("GetCustomer")?
        .into_inner();
    let encoded = answer.encode_to_vec();
    let answer_file = dev.file("get-customer-answer.bin");
    std::fs::write(&answer_file, &encoded)?;
    settle(&mut dev.server, dev.admin).await?;
    let customers = Arc::new(customers);

    report::progress(&format!(
        "  suite: GetCustomer FULL, answer {} bytes",
        encoded.len()
    ));
    let (_, suite) = measure(
        readers(&channels, options.clients, &customers),
        options,
        &dev.server,
        Some(dev.admin),
    )
    .await?;
    let counted = verify("GetCustomer", &suite, &[(PROFILES, "GetCustomer", false)]);
    let suite_rss = dev.server.rss()?;
    drop(channels);

    // The baseline, on the same core, with the same clients, after the suite has gone.
    let echo_address = process::free_address()?;
    let mut echo = Server::start(
        "echo-server",
        &options.server_core,
        &std::env::current_exe()?,
        &[
            "echo-server",
            "--listen",
            &echo_address.to_string(),
            "--response",
            &answer_file.display().to_string(),
        ],
        &[],
        dev.file("echo.log"),
    )?;
    drop(dev.server);
    echo.wait_until(Duration::from_secs(10), || async move {
        tokio::net::TcpStream::connect(echo_address).await.is_ok()
    })
    .await?;
    let channels = load::connect(echo_address, options.connections).await?;
    report::progress("  baseline: bare tonic server, same answer");
    let (_, baseline) = measure(
        readers(&channels, options.clients, &customers),
        options,
        &echo,
        None,
    )
    .await?;
    let baseline_counted = verify("GetCustomer baseline", &baseline, &[]);
    let echo_rss = echo.rss()?;

    let method = |m: &super::Measured| {
        m.tally
            .methods
            .get("GetCustomer")
            .cloned()
            .unwrap_or_default()
    };
    let (ours, theirs) = (method(&suite), method(&baseline));
    let ours_rate = suite.tally.per_second(ours.ok);
    let theirs_rate = baseline.tally.per_second(theirs.ok);
    Ok(vec![
        Row {
            path: format!(
                "GetCustomer FULL (rapport dev, SQLite; {} B answer)",
                encoded.len()
            ),
            value: format!("{ours_rate:.0} calls/s"),
            baseline: format!("{theirs_rate:.0} calls/s"),
            ratio: ratio(ours_rate, theirs_rate),
            p50: ours.quantile(0.5).map(millis).unwrap_or_default(),
            p99: ours.quantile(0.99).map(millis).unwrap_or_default(),
            rss: mib(suite_rss),
            counted,
        },
        Row {
            path: "  baseline: bare tonic, same answer".into(),
            value: format!("{theirs_rate:.0} calls/s"),
            p50: theirs.quantile(0.5).map(millis).unwrap_or_default(),
            p99: theirs.quantile(0.99).map(millis).unwrap_or_default(),
            rss: mib(echo_rss),
            counted: baseline_counted,
            ..Row::default()
        },
    ])
}
