//! When Secret Manager says no: the preflight passes and leaves no probe, or names the missing
//! permission and the `gcloud` fix; injected faults come back retryable, never holding the value,
//! and converge; a denied write names the permission.

use super::{copy, open, value, WF};
use crate::fakes::gsm::FakeGsm;
use server::providers::ProviderError;

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
