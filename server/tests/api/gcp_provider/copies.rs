//! A run's copies in Secret Manager: one labelled secret with one version and a TTL, made exactly
//! once however often it is retried, never written into a foreign secret, deleted (a missing copy
//! counts as deleted), listed for this install only, and named in the launch's environment.

use super::{copy, open, open_as, value, INSTALL, WF};
use crate::fakes::gsm::{FakeGsm, PROJECT_NUMBER};
use base64::Engine as _;
use server::providers::gcp::{
    ANNOTATION_INSTALL_ID, ANNOTATION_NAME, ANNOTATION_WORKFLOW_ID, ENV_SECRETS, LABEL_MANAGED_BY,
    LABEL_WORKFLOW_ID,
};
use server::providers::{CopySpec, CreatedCopy, ManagedCopy, ProviderError};

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
