//! What opening the Google store needs: a project and well-formed keys (refused without quoting
//! them); a real service-account key from the credentials signs every call.

use super::{config, copy, value, INSTALL};
use crate::fakes::gsm::FakeGsm;
use app::model::Platform;
use server::providers::{self, HostIdentity, ProviderError, Target};

#[tokio::test]
async fn gcp_provider_needs_a_project_and_well_formed_keys() {
    let fake = FakeGsm::start().await;
    let mut config = config(&fake, "p");
    config.project = None;
    let target = Target {
        platform: Platform::GoogleBatch,
        config: &config,
        credentials: None,
        install_id: INSTALL,
        host_identity: HostIdentity::Refused,
        managed_identity: None,
    };
    assert!(matches!(providers::open(target).await.err(), Some(ProviderError::Rejected(_))));

    let config = self::config(&fake, "proj-keys");
    let keys = value(r#"{"data": "-----BEGIN PRIVATE KEY----- not json"}"#);
    let target = Target {
        platform: Platform::GoogleBatch,
        config: &config,
        credentials: Some(&keys),
        install_id: INSTALL,
        host_identity: HostIdentity::Refused,
        managed_identity: None,
    };
    let refused = providers::open(target).await.err().expect("refused");
    assert!(matches!(refused, ProviderError::Rejected(_)));
    assert!(!refused.to_string().contains("PRIVATE KEY"));
}

/// A real service-account key (made with openssl) signs a self-signed JWT for every call, so the
/// credential path runs end to end without any token endpoint.
#[tokio::test]
async fn gcp_provider_uses_the_service_account_key_from_the_credentials() {
    let Ok(output) = std::process::Command::new("openssl")
        .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
        .output()
    else {
        eprintln!("openssl is not installed; skipping");
        return;
    };
    let pem = String::from_utf8(output.stdout).unwrap();
    let key = serde_json::json!({
        "type": "service_account",
        "project_id": "proj-sa",
        "private_key_id": "abc123",
        "private_key": pem,
        "client_email": "strongroom@proj-sa.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    });
    let keys = value(&serde_json::json!({"data": key.to_string()}).to_string());
    let fake = FakeGsm::start().await;
    let config = config(&fake, "proj-sa");
    let target = Target {
        platform: Platform::GoogleBatch,
        config: &config,
        credentials: Some(&keys),
        install_id: INSTALL,
        host_identity: HostIdentity::Refused,
        managed_identity: None,
    };
    let store = providers::open(target).await.unwrap();

    store.create_copy(copy("SA_COPY"), &value("v")).await.unwrap();

    assert!(fake.authorized_calls() >= 2, "every call carried a bearer token");
    fake.deny("secretmanager.secrets.list");
    let failure = store.preflight().await.unwrap_err();
    assert!(failure.fix.contains(
        "--member=serviceAccount:strongroom@proj-sa.iam.gserviceaccount.com --role=roles/secretmanager.admin"
    ));
}
