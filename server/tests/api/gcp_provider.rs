//! The Google Batch target, driven through `providers::open` with Google's own client against
//! the Secret Manager fake (`fakes::gsm`).

use crate::fakes::gsm::{FakeGsm, PROJECT_NUMBER};
use app::model::{ComputeConfig, Platform};
use base64::Engine as _;
use server::crypto::SecretBytes;
use server::providers::gcp::{
    ANNOTATION_INSTALL_ID, ANNOTATION_NAME, ANNOTATION_WORKFLOW_ID, ENV_SECRETS, LABEL_MANAGED_BY,
    LABEL_WORKFLOW_ID,
};
use server::providers::{
    self, CopySpec, CreatedCopy, HostIdentity, ManagedCopy, ProviderError, SharedStore, Target,
};

const WF: &str = "1k0K4WlGep8ZTM";
const INSTALL: &str = "Install-7F3a";

fn value(text: &str) -> SecretBytes {
    SecretBytes::from(text.as_bytes().to_vec())
}

fn config(fake: &FakeGsm, project: &str) -> ComputeConfig {
    ComputeConfig {
        project: Some(project.into()),
        location: Some("europe-west1".into()),
        endpoint_url: Some(fake.endpoint()),
        ..Default::default()
    }
}

async fn open_as(fake: &FakeGsm, project: &str, install_id: &str) -> SharedStore {
    let config = config(fake, project);
    let target = Target {
        platform: Platform::GoogleBatch,
        config: &config,
        credentials: None,
        install_id,
        host_identity: HostIdentity::Refused,
    };
    providers::open(target).await.expect("the Google store opens")
}

/// Each test writes to its own project, so the per-project write limiter is not shared.
async fn open(fake: &FakeGsm, project: &str) -> SharedStore {
    open_as(fake, project, INSTALL).await
}

fn copy<'a>(name: &'a str) -> CopySpec<'a> {
    CopySpec { workflow_id: WF, name }
}

#[tokio::test]
async fn gcp_provider_copy_is_one_labelled_secret_with_one_version_and_a_ttl() {
    let fake = FakeGsm::start().await;
    let store = open(&fake, "proj-copy").await;

    let reference = store.create_copy(copy("MY_TOKEN"), &value("s3cr3t-value")).await.unwrap();

    let id = format!("tower-{WF}-MY_TOKEN");
    assert_eq!(reference, format!("projects/proj-copy/secrets/{id}/versions/latest"));
    let secrets = fake.secrets();
    assert_eq!(secrets.len(), 1);
    let secret = &secrets[&id];
    assert_eq!(secret.id, id);
    assert_eq!(secret.name, format!("projects/{PROJECT_NUMBER}/secrets/{id}"));
    assert_eq!(secret.labels[LABEL_MANAGED_BY], "install-7f3a");
    assert_eq!(secret.labels[LABEL_WORKFLOW_ID], WF.to_lowercase());
    assert_eq!(secret.annotations[ANNOTATION_INSTALL_ID], INSTALL);
    assert_eq!(secret.annotations[ANNOTATION_WORKFLOW_ID], WF);
    assert_eq!(secret.annotations[ANNOTATION_NAME], "MY_TOKEN");
    assert_eq!(secret.replication, serde_json::json!({"automatic": {}}));
    assert_eq!(secret.ttl.as_deref(), Some("604800s"));
    assert!(secret.expire_time.is_some());
    assert_eq!(secret.versions.len(), 1);
    assert_eq!(secret.versions[0].data, b"s3cr3t-value");
    assert_eq!(secret.versions[0].state, "ENABLED");

    // Read back as a task would, through the REST resource name (project id, alias `latest`).
    let url = format!("{}/v1/{}:access", fake.endpoint(), reference);
    let body: serde_json::Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    let data =
        base64::engine::general_purpose::STANDARD.decode(body["payload"]["data"].as_str().unwrap()).unwrap();
    assert_eq!(data, b"s3cr3t-value");
}

#[tokio::test]
async fn gcp_provider_create_twice_makes_one_secret_and_one_version() {
    let fake = FakeGsm::start().await;
    let store = open(&fake, "proj-twice").await;

    let first = store.create_copy(copy("A_B"), &value("one")).await.unwrap();
    let second = store.create_copy(copy("A_B"), &value("one")).await.unwrap();

    assert_eq!(first, second);
    let secrets = fake.secrets();
    assert_eq!(secrets.len(), 1);
    assert_eq!(secrets.values().next().unwrap().versions.len(), 1);
}

#[tokio::test]
async fn gcp_provider_retry_after_a_lost_version_adds_exactly_one() {
    let fake = FakeGsm::start().await;
    let store = open(&fake, "proj-half").await;
    // An earlier attempt made the secret, then failed before adding the version.
    let id = format!("tower-{WF}-HALF");
    fake.insert(
        &id,
        &[(LABEL_MANAGED_BY, "install-7f3a")],
        &[(ANNOTATION_INSTALL_ID, INSTALL), (ANNOTATION_WORKFLOW_ID, WF), (ANNOTATION_NAME, "HALF")],
    );

    store.create_copy(copy("HALF"), &value("v")).await.unwrap();
    store.create_copy(copy("HALF"), &value("v")).await.unwrap();

    assert_eq!(fake.secrets()[&id].versions.len(), 1);
}

#[tokio::test]
async fn gcp_provider_refuses_a_foreign_secret_with_the_copy_id() {
    let fake = FakeGsm::start().await;
    let store = open(&fake, "proj-foreign").await;
    let id = format!("tower-{WF}-THEIRS");
    fake.insert(&id, &[("team", "data")], &[]);
    // Same label value but another install id (label values lose case; annotations do not).
    let lookalike = format!("tower-{WF}-LOOKALIKE");
    fake.insert(
        &lookalike,
        &[(LABEL_MANAGED_BY, "install-7f3a")],
        &[
            (ANNOTATION_INSTALL_ID, "INSTALL-7f3a"),
            (ANNOTATION_WORKFLOW_ID, WF),
            (ANNOTATION_NAME, "LOOKALIKE"),
        ],
    );

    for name in ["THEIRS", "LOOKALIKE"] {
        let refused = store.create_copy(copy(name), &value("mine")).await.unwrap_err();
        assert!(matches!(refused, ProviderError::Rejected(_)), "{refused:?}");
        assert!(!refused.is_retryable());
    }
    assert!(fake.secrets().values().all(|s| s.versions.is_empty()), "nothing was added to foreign secrets");
}

#[tokio::test]
async fn gcp_provider_delete_removes_the_copy_and_a_missing_copy_is_deleted() {
    let fake = FakeGsm::start().await;
    let store = open(&fake, "proj-delete").await;
    store.create_copy(copy("GONE"), &value("x")).await.unwrap();

    store.delete_copy(copy("GONE")).await.unwrap();
    assert!(fake.secrets().is_empty());
    store.delete_copy(copy("GONE")).await.unwrap();
    store.delete_copy(copy("NEVER_MADE")).await.unwrap();
}

#[tokio::test]
async fn gcp_provider_list_managed_returns_only_this_installs_copies_across_pages() {
    let fake = FakeGsm::start().await;
    fake.set_default_page_size(2);
    let store = open(&fake, "proj-list").await;
    let other = open_as(&fake, "proj-list", "other-install").await;
    for name in ["N_1", "N_2", "N_3"] {
        store.create_copy(copy(name), &value("v")).await.unwrap();
    }
    other.create_copy(CopySpec { workflow_id: "OtherWf0000001", name: "N_1" }, &value("v")).await.unwrap();
    fake.insert("unrelated", &[], &[]);
    fake.insert(
        "tower-lookalike-X",
        &[(LABEL_MANAGED_BY, "install-7f3a")],
        &[(ANNOTATION_INSTALL_ID, "INSTALL-7F3A")],
    );

    let mut ours = store.list_managed().await.unwrap();
    ours.sort_by(|a, b| a.name.cmp(&b.name));

    let expected: Vec<ManagedCopy> = ["N_1", "N_2", "N_3"]
        .into_iter()
        .map(|n| ManagedCopy { workflow_id: WF.into(), name: n.into() })
        .collect();
    assert_eq!(ours, expected);
    assert_eq!(
        other.list_managed().await.unwrap(),
        vec![ManagedCopy { workflow_id: "OtherWf0000001".into(), name: "N_1".into() }]
    );
    let listed: Vec<String> =
        fake.calls().into_iter().filter(|c| c == "GET /v1/projects/proj-list/secrets").collect();
    assert!(listed.len() >= 3, "the listing was paginated: {listed:?}");
}

#[tokio::test]
async fn gcp_provider_preflight_passes_and_leaves_no_probe() {
    let fake = FakeGsm::start().await;
    let store = open(&fake, "proj-preflight").await;

    store.preflight().await.unwrap();

    assert!(fake.secrets().is_empty());
    let calls = fake.calls();
    assert!(calls.iter().any(|c| c.starts_with("POST ") && c.ends_with(":addVersion")), "{calls:?}");
    assert!(calls
        .iter()
        .any(|c| c.starts_with("DELETE /v1/projects/proj-preflight/secrets/tower-preflight-")));
}

#[tokio::test]
async fn gcp_provider_preflight_names_the_missing_permission_and_the_gcloud_fix() {
    let fake = FakeGsm::start().await;
    fake.deny("secretmanager.secrets.create");
    let store = open(&fake, "proj-denied").await;

    let failure = store.preflight().await.unwrap_err();

    assert_eq!(failure.step, "create a probe secret");
    assert!(failure.message.contains("secretmanager.secrets.create"), "{}", failure.message);
    assert!(failure.fix.contains(
        "gcloud projects add-iam-policy-binding proj-denied \
         --member=serviceAccount:PLATFORM_SERVICE_ACCOUNT_EMAIL --role=roles/secretmanager.admin"
    ));
    assert!(failure.fix.contains("--role=roles/secretmanager.secretAccessor"));

    let fake = FakeGsm::start().await;
    fake.deny("secretmanager.secrets.list");
    let failure = open(&fake, "proj-denied-list").await.preflight().await.unwrap_err();
    assert_eq!(failure.step, "list secrets");
}

#[tokio::test]
async fn gcp_provider_faults_come_back_retryable_and_never_hold_the_value() {
    let fake = FakeGsm::start().await;
    let store = open(&fake, "proj-faults").await;
    fake.set_faults(0.2, 0.05, 7);
    let names: Vec<String> = (0..20).map(|i| format!("S_{i}")).collect();
    let secret_value = |name: &str| format!("value-of-{name}-do-not-leak");

    let mut throttled = 0;
    let mut unavailable = 0;
    let mut pending: Vec<&String> = names.iter().collect();
    for _round in 0..50 {
        let mut still = Vec::new();
        for name in pending {
            match store.create_copy(copy(name), &value(&secret_value(name))).await {
                Ok(_) => {}
                Err(e) => {
                    assert!(e.is_retryable(), "{e:?}");
                    assert!(!e.to_string().contains("do-not-leak"), "{e}");
                    match e {
                        ProviderError::Throttled(_) => throttled += 1,
                        ProviderError::Unavailable(_) => unavailable += 1,
                        _ => unreachable!(),
                    }
                    still.push(name);
                }
            }
        }
        pending = still;
        if pending.is_empty() {
            break;
        }
    }
    assert!(pending.is_empty(), "every copy was made in the end");
    assert!(
        throttled > 0 && unavailable > 0,
        "faults were injected ({throttled} throttled, {unavailable} unavailable)"
    );
    let secrets = fake.secrets();
    assert_eq!(secrets.len(), names.len());
    for name in &names {
        let secret = &secrets[&format!("tower-{WF}-{name}")];
        assert_eq!(secret.versions.len(), 1, "{name} has exactly one version");
        assert_eq!(secret.versions[0].data, secret_value(name).as_bytes());
    }

    // Deletes under faults converge too.
    let mut pending: Vec<&String> = names.iter().collect();
    for _round in 0..50 {
        let mut still = Vec::new();
        for name in pending {
            if let Err(e) = store.delete_copy(copy(name)).await {
                assert!(e.is_retryable(), "{e:?}");
                still.push(name);
            }
        }
        pending = still;
        if pending.is_empty() {
            break;
        }
    }
    assert!(fake.secrets().is_empty());
}

#[tokio::test]
async fn gcp_provider_denied_write_names_the_permission() {
    let fake = FakeGsm::start().await;
    fake.deny("secretmanager.versions.add");
    let store = open(&fake, "proj-deny-add").await;

    let denied = store.create_copy(copy("NOPE"), &value("hidden-value")).await.unwrap_err();

    match denied {
        ProviderError::Denied { permission, message } => {
            assert_eq!(permission, "secretmanager.versions.add");
            assert!(message.starts_with("PERMISSION_DENIED"), "{message}");
            assert!(!message.contains("hidden-value"));
        }
        other => panic!("expected Denied, got {other:?}"),
    }
}

#[tokio::test]
async fn gcp_provider_prepare_launch_lists_the_references_tasks_read() {
    let fake = FakeGsm::start().await;
    let store = open(&fake, "proj-launch").await;
    let mut copies = Vec::new();
    for name in ["A_1", "B_2"] {
        let reference = store.create_copy(copy(name), &value("v")).await.unwrap();
        copies.push(CreatedCopy { name: name.into(), reference });
    }

    let env = store.prepare_launch(WF, &copies).await.unwrap();

    assert_eq!(
        env,
        vec![
            (
                ENV_SECRETS.to_string(),
                format!(
                    "A_1=projects/proj-launch/secrets/tower-{WF}-A_1/versions/latest,\
                     B_2=projects/proj-launch/secrets/tower-{WF}-B_2/versions/latest"
                )
            ),
            ("GOOGLE_CLOUD_PROJECT".to_string(), "proj-launch".to_string()),
        ]
    );
    store.finish_cleanup(WF).await.unwrap();
}

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
