//! TLS to PostgreSQL (issue 21): a private cluster that accepts TLS connections only, with a
//! server certificate from a CA made for the test. `storage.tls` with `verify-full` and the CA
//! file connects (and the session is encrypted); a plaintext connection, a certificate from
//! another CA, and a host the certificate does not name are refused.

mod running;

use rapport_security::dev::DevCa;
use rapport_storage::{PostgresTls, PostgresTlsMode, Storage, StorageSettings};
use running::postgres::{PrivateCluster, ServerTls, private_postgres_possible};

fn settings(url: String, tls: Option<PostgresTls>) -> StorageSettings {
    StorageSettings {
        url,
        tls,
        max_connections: 1,
        acquire_timeout_ms: 3_000,
        ..StorageSettings::default()
    }
}

/// Whether `settings` reach the server, and over TLS.
async fn connect(settings: &StorageSettings) -> Result<bool, String> {
    let storage = Storage::open(settings).map_err(|error| error.to_string())?;
    let encrypted: Result<bool, _> = rapport_storage::sqlx::query_scalar(
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    )
    .fetch_one(storage.reader())
    .await;
    storage.close().await;
    encrypted.map_err(|error| rapport_errors::chain(&error))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_tls_verifies_the_server_against_its_ca_and_name() {
    if !private_postgres_possible("storage_tls_verifies_the_server_against_its_ca_and_name") {
        return;
    }
    let ca = DevCa::new("postgres test CA").expect("CA");
    let server = ca.server(&["localhost"]).expect("server certificate");
    let cluster = PrivateCluster::start_tls_only(&ServerTls {
        certificate: &server.certificate,
        key: &server.key,
    });
    let files = tempfile::tempdir().expect("directory");
    let ca_file = files.path().join("postgres-ca.pem");
    std::fs::write(&ca_file, ca.certificate_pem()).expect("CA file");
    let other_ca_file = files.path().join("other-ca.pem");
    std::fs::write(
        &other_ca_file,
        DevCa::new("another CA").expect("CA").certificate_pem(),
    )
    .expect("other CA file");
    let url = |host: &str| format!("postgres://postgres@{host}:{}/postgres", cluster.port);
    let verify_full = |ca: &std::path::Path| {
        Some(PostgresTls {
            mode: PostgresTlsMode::VerifyFull,
            ca_file: Some(ca.display().to_string()),
        })
    };

    // verify-full against the test CA, to the name in the certificate: connected, encrypted.
    assert_eq!(
        connect(&settings(url("localhost"), verify_full(&ca_file))).await,
        Ok(true)
    );
    // Plaintext is refused by the server (hostssl only): the test's server really wants TLS.
    let plaintext = connect(&settings(
        format!("{}?sslmode=disable", url("localhost")),
        None,
    ))
    .await;
    assert!(plaintext.is_err(), "{plaintext:?}");
    // A server whose certificate another CA signed is not trusted.
    let untrusted = connect(&settings(url("localhost"), verify_full(&other_ca_file))).await;
    assert!(untrusted.is_err(), "{untrusted:?}");
    // verify-full checks the name: the certificate names localhost, not 127.0.0.1.
    let wrong_name = connect(&settings(url("127.0.0.1"), verify_full(&ca_file))).await;
    assert!(wrong_name.is_err(), "{wrong_name:?}");
    // verify-ca does not check the name.
    assert_eq!(
        connect(&settings(
            url("127.0.0.1"),
            Some(PostgresTls {
                mode: PostgresTlsMode::VerifyCa,
                ca_file: Some(ca_file.display().to_string()),
            })
        ))
        .await,
        Ok(true)
    );
}
