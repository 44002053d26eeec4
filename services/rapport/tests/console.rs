//! `rapport dev --console-listen ADDR` serves the agents' browser console (issue 25; the flag is
//! part of the contract). The console's pages are tested in Chromium by `tests/console/`; here,
//! only that the binary serves it where it was told, and refuses a taken address by name.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RAPPORT: &str = env!("CARGO_BIN_EXE_rapport");

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn dev(console: &str, data: &std::path::Path) -> std::process::Child {
    Command::new(RAPPORT)
        .args([
            "dev",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ])
        .args(["--console-listen", console, "--data-dir"])
        .arg(data)
        .env("RUST_LOG", "warn")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rapport starts")
}

/// GET `path` over HTTP/1.1: the status line and the body.
fn get(address: &str, path: &str) -> Option<(String, String)> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let status = answer.lines().next()?.to_owned();
    Some((status, answer))
}

#[test]
fn rapport_dev_serves_the_console_at_console_listen() {
    let data = tempfile::tempdir().unwrap();
    let address = format!("127.0.0.1:{}", free_port());
    let mut child = dev(&address, data.path());
    let mut banner = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    while !banner.contains("console:") {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 {
            break;
        }
        banner.push_str(&line);
    }
    let started = Instant::now();
    let answer = loop {
        if let Some(answer) = get(&address, "/") {
            break answer;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no console on {address}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        banner.contains(&format!("console:    http://{address}/")),
        "{banner}"
    );
    let (status, page) = answer;
    assert!(status.contains("200"), "{status}");
    assert!(page.contains("<form"), "the Find page: {page}");
    assert!(page.contains("Search"), "{page}");
    assert!(
        page.to_ascii_lowercase()
            .contains("cache-control: no-store"),
        "{page}"
    );
}

#[test]
fn a_taken_console_address_stops_the_start_naming_it() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let data = tempfile::tempdir().unwrap();
    let output = dev(&address, data.path()).wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("the console cannot listen on {address}")),
        "{stderr}"
    );
}
