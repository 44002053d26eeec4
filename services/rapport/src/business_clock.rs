//! `rapport clock`: reads and moves the business clock of a running `rapport dev --clock` (or a
//! `rapport serve` allowed one), through its admin port's `/clock` routes. Plain HTTP/1.1 on the
//! admin port, which is plaintext by design (it serves probes and metrics too).

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Where `rapport dev` serves its admin port.
pub const DEFAULT_ADMIN: &str = "http://127.0.0.1:9464";

/// What to do with the clock.
#[derive(Debug, Clone, PartialEq)]
pub enum Move {
    Show,
    /// A duration such as `31d` or `2h 30m`.
    Advance(String),
    /// An RFC 3339 instant.
    Set(String),
    Speed(f64),
}

/// Sends the move to `admin` (`http://HOST:PORT`) and returns the clock's answer
/// ("business time … (speed …)").
pub async fn send(admin: &str, r#move: &Move) -> anyhow::Result<String> {
    let authority = admin
        .strip_prefix("http://")
        .context("the admin address is plaintext HTTP: http://HOST:PORT")?
        .trim_end_matches('/');
    let (method, path, body) = match r#move {
        Move::Show => ("GET", "/clock", String::new()),
        Move::Advance(by) => ("POST", "/clock/advance", by.clone()),
        Move::Set(to) => ("POST", "/clock/set", to.clone()),
        Move::Speed(speed) => ("POST", "/clock/speed", speed.to_string()),
    };
    let mut stream = TcpStream::connect(authority)
        .await
        .with_context(|| format!("cannot reach the admin port at {admin}"))?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let response = String::from_utf8_lossy(&response);
    let (head, text) = response
        .split_once("\r\n\r\n")
        .context("the admin port answered something that is not HTTP")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .unwrap_or(0);
    match status {
        200 => Ok(text.to_owned()),
        404 => bail!(
            "{admin} has no business clock: start the suite with `rapport dev --clock …` (production never has one)"
        ),
        _ => bail!("the business clock was not moved: {}", text.trim()),
    }
}
