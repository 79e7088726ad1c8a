//! `open_credentials_version` is crate-private (only the provisioning path may decrypt), so its test
//! lives here, on a real SQLite database in a temporary directory.

use crate::config::Config;
use crate::domain::{Domain, NewAccount};
use app::model::SessionUser;
use app::ports::{CredentialKeysInput, CredentialsPort, WorkspacesPort};
use secrecy::{ExposeSecret, SecretString};

async fn domain(dir: &std::path::Path) -> Domain {
    let config = Config {
        data_dir: dir.to_path_buf(),
        database_url: Some(format!("sqlite://{}?mode=rwc", dir.join("test.db").display())),
        ..Config::default()
    };
    crate::startup::build_domain(&config).await.unwrap()
}

async fn workspace(domain: &Domain) -> (SessionUser, i64) {
    let account = NewAccount {
        email: "owner@example.org".into(),
        display_name: "Owner".into(),
        password: SecretString::from("correct horse battery staple"),
        is_instance_admin: true,
    };
    let owner = domain.accounts.create_admin_from_cli(account).await.unwrap();
    let org =
        domain.workspaces.create_org(&owner, "genomics".into(), "Genomics".into(), "".into()).await.unwrap();
    let ws = domain
        .workspaces
        .create_workspace(&owner, org.id, "main".into(), "Main".into(), "".into())
        .await
        .unwrap();
    (owner, ws.id)
}

#[tokio::test]
async fn open_credentials_returns_the_sealed_keys_and_records_the_use() {
    let dir = tempfile::tempdir().unwrap();
    let domain = domain(dir.path()).await;
    let (owner, ws_id) = workspace(&domain).await;
    let services = &domain.core;
    let keys = CredentialKeysInput::Aws {
        access_key: Some("AKIAIOSFODNN7EXAMPLE".into()),
        secret_key: Some(SecretString::from("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")),
        assume_role_arn: None,
        external_id: None,
    };
    let id = domain.compute.create_credentials(&owner, ws_id, "aws-prod".into(), keys).await.unwrap();
    let before = domain.compute.describe_credentials(&owner, ws_id, id).await.unwrap();
    assert_eq!(before.last_used_at, None);

    let (provider, document) = services.open_credentials_version(ws_id, id, None).await.unwrap();
    assert_eq!(provider, "aws");
    let document: serde_json::Value = serde_json::from_slice(document.expose_secret()).unwrap();
    assert_eq!(document["accessKey"], "AKIAIOSFODNN7EXAMPLE");
    assert_eq!(document["secretKey"], "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    let after = domain.compute.describe_credentials(&owner, ws_id, id).await.unwrap();
    assert!(after.last_used_at.is_some());

    // Scoped by workspace: another workspace's id opens nothing.
    assert!(services.open_credentials_version(ws_id + 1, id, None).await.is_err());
    // A row whose seal was moved to another id does not open.
    sqlx::query("UPDATE credentials SET id = id + 100 WHERE id = $1")
        .bind(id)
        .execute(&services.db.pool)
        .await
        .unwrap();
    assert!(services.open_credentials_version(ws_id, id + 100, None).await.is_err());
}
