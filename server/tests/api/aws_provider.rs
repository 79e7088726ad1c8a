//! The AWS provider against moto with the real SDK: copies, job definitions, listing, preflight.
//!
//! What this does not prove: moto has no IAM simulation (every call is allowed) and no quotas, so
//! the `Denied` and `Throttled` mappings are unit-tested on synthetic SDK errors
//! (`providers::aws::errors`), not against AWS. Likewise the KMS key option and `iam:PassRole` are
//! not exercised here.

use crate::fakes::moto::Moto;
use app::model::{ComputeConfig, Platform};
use server::crypto::SecretBytes;
use server::providers::{self, CopySpec, CreatedCopy, ManagedCopy, ProviderError, SharedStore, Target};

const WF: &str = "1k0K4WlGep8ZTM";
const INSTALL: &str = "install-test-a";
const EXEC_ROLE: &str = "arn:aws:iam::123456789012:role/strongroom-batch-exec";

fn aws_config(moto: &Moto) -> ComputeConfig {
    ComputeConfig {
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.endpoint.clone()),
        execution_role_arn: Some(EXEC_ROLE.into()),
        job_queue: Some(crate::fakes::moto::QUEUE.into()),
        ..Default::default()
    }
}

async fn open_with(
    config: &ComputeConfig,
    keys: Option<&str>,
    install_id: &str,
) -> Result<SharedStore, ProviderError> {
    let keys = keys.map(|k| SecretBytes::from(k.as_bytes().to_vec()));
    providers::open(Target {
        platform: Platform::AwsBatch,
        config,
        credentials: keys.as_ref(),
        install_id,
        host_identity: providers::HostIdentity::Refused,
        managed_identity: None,
    })
    .await
}

async fn open_store(moto: &Moto, install_id: &str) -> SharedStore {
    open_with(&aws_config(moto), Some(Moto::keys_json()), install_id).await.expect("the AWS store opens")
}

fn value(text: &str) -> SecretBytes {
    SecretBytes::from(text.as_bytes().to_vec())
}

fn copy<'a>(name: &'a str) -> CopySpec<'a> {
    CopySpec { workflow_id: WF, name }
}

async fn secret_value(moto: &Moto, id: &str) -> Option<String> {
    match moto.secrets_client().await.get_secret_value().secret_id(id).send().await {
        Ok(out) => out.secret_string().map(str::to_string),
        Err(e) => {
            use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
            assert_eq!(e.code(), Some("ResourceNotFoundException"), "unexpected error reading {id}");
            None
        }
    }
}

#[tokio::test]
async fn create_copy_makes_a_tagged_secret_named_tower_wf_name_holding_the_value() {
    let moto = Moto::start().await;
    let store = open_store(&moto, INSTALL).await;

    let arn = store.create_copy(copy("DB_PASSWORD"), &value("s3cr3t\nline two")).await.unwrap();
    store.create_copy(copy("API_TOKEN"), &value("tok-123")).await.unwrap();

    assert!(arn.starts_with("arn:aws:secretsmanager:us-east-1:"), "{arn}");
    assert_eq!(
        secret_value(&moto, "tower-1k0K4WlGep8ZTM/DB_PASSWORD").await.as_deref(),
        Some("s3cr3t\nline two")
    );
    assert_eq!(secret_value(&moto, "tower-1k0K4WlGep8ZTM/API_TOKEN").await.as_deref(), Some("tok-123"));
    let described = moto.secrets_client().await.describe_secret().secret_id(&arn).send().await.unwrap();
    assert_eq!(described.name(), Some("tower-1k0K4WlGep8ZTM/DB_PASSWORD"));
    let mut tags: Vec<(String, String)> = described
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
        .collect();
    tags.sort();
    assert_eq!(
        tags,
        vec![
            ("managed-by".into(), INSTALL.into()),
            ("secret-name".into(), "DB_PASSWORD".into()),
            ("workflow-id".into(), WF.into()),
        ]
    );
}

#[tokio::test]
async fn creating_a_copy_twice_returns_the_same_arn_and_makes_no_second_secret() {
    let moto = Moto::start().await;
    let store = open_store(&moto, INSTALL).await;

    let first = store.create_copy(copy("DB_PASSWORD"), &value("one")).await.unwrap();
    let again = store.create_copy(copy("DB_PASSWORD"), &value("one")).await.unwrap();
    // A retry by a freshly opened store (as after a restart) converges on the same copy too.
    let reopened = open_store(&moto, INSTALL).await;
    let third = reopened.create_copy(copy("DB_PASSWORD"), &value("one")).await.unwrap();

    assert_eq!(first, again);
    assert_eq!(first, third);
    let listed = moto.secrets_client().await.list_secrets().send().await.unwrap();
    assert_eq!(listed.secret_list().len(), 1);
}

#[tokio::test]
async fn a_foreign_secret_with_the_copy_name_is_refused_and_left_alone() {
    let moto = Moto::start().await;
    let client = moto.secrets_client().await;
    client
        .create_secret()
        .name("tower-1k0K4WlGep8ZTM/DB_PASSWORD")
        .secret_string("theirs")
        .send()
        .await
        .unwrap();
    let store = open_store(&moto, INSTALL).await;

    let err = store.create_copy(copy("DB_PASSWORD"), &value("ours")).await.unwrap_err();
    match &err {
        ProviderError::Rejected(m) => assert!(m.contains("not a copy this Strongroom made"), "{m}"),
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert!(!err.to_string().contains("ours"), "the value never appears in an error");
    // Deleting "our copy" does not touch the foreign secret.
    store.delete_copy(copy("DB_PASSWORD")).await.unwrap();
    assert_eq!(secret_value(&moto, "tower-1k0K4WlGep8ZTM/DB_PASSWORD").await.as_deref(), Some("theirs"));
}

#[tokio::test]
async fn a_value_that_is_not_utf8_is_refused() {
    let moto = Moto::start().await;
    let store = open_store(&moto, INSTALL).await;
    let err = store.create_copy(copy("BLOB"), &SecretBytes::from(vec![0xff, 0xfe, 0x00])).await.unwrap_err();
    assert!(matches!(err, ProviderError::Rejected(ref m) if m.contains("not UTF-8")), "{err:?}");
}

#[tokio::test]
async fn prepare_launch_registers_one_job_definition_listing_every_copy_and_cleanup_deregisters_it() {
    let moto = Moto::start().await;
    let store = open_store(&moto, INSTALL).await;
    let a = store.create_copy(copy("DB_PASSWORD"), &value("one")).await.unwrap();
    let b = store.create_copy(copy("API_TOKEN"), &value("two")).await.unwrap();
    let copies = vec![
        CreatedCopy { name: "DB_PASSWORD".into(), reference: a.clone() },
        CreatedCopy { name: "API_TOKEN".into(), reference: b.clone() },
    ];

    let env = store.prepare_launch(WF, &copies).await.unwrap();
    let again = store.prepare_launch(WF, &copies).await.unwrap();

    assert_eq!(env, again, "a second call reuses the job definition");
    let get = |k: &str| env.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    assert_eq!(get("AWS_REGION").as_deref(), Some("us-east-1"));
    assert_eq!(get("AWS_BATCH_JOB_QUEUE").as_deref(), Some(crate::fakes::moto::QUEUE));
    let definition_arn = get("AWS_BATCH_JOB_DEFINITION").expect("a job definition");
    assert!(definition_arn.contains(":job-definition/tower-1k0K4WlGep8ZTM:"), "{definition_arn}");

    let batch = moto.batch_client().await;
    let described = batch
        .describe_job_definitions()
        .job_definition_name("tower-1k0K4WlGep8ZTM")
        .status("ACTIVE")
        .send()
        .await
        .unwrap();
    assert_eq!(described.job_definitions().len(), 1, "no second revision");
    let definition = &described.job_definitions()[0];
    assert_eq!(definition.job_definition_arn(), Some(definition_arn.as_str()));
    let container = definition.container_properties().unwrap();
    assert_eq!(container.execution_role_arn(), Some(EXEC_ROLE));
    let mut secrets: Vec<(String, String)> = container
        .secrets()
        .iter()
        .map(|s| (s.name().unwrap().to_string(), s.value_from().unwrap().to_string()))
        .collect();
    secrets.sort();
    assert_eq!(secrets, vec![("API_TOKEN".into(), b), ("DB_PASSWORD".into(), a)]);
    assert_eq!(definition.tags().unwrap().get("managed-by").map(String::as_str), Some(INSTALL));

    store.finish_cleanup(WF).await.unwrap();
    store.finish_cleanup(WF).await.unwrap();
    let active = batch
        .describe_job_definitions()
        .job_definition_name("tower-1k0K4WlGep8ZTM")
        .status("ACTIVE")
        .send()
        .await
        .unwrap();
    assert!(active.job_definitions().is_empty(), "every revision is deregistered");
}

#[tokio::test]
async fn a_launch_with_secrets_on_a_custom_job_definition_is_refused() {
    let moto = Moto::start().await;
    let config = ComputeConfig { custom_job_definition: Some(true), ..aws_config(&moto) };
    let store = open_with(&config, Some(Moto::keys_json()), INSTALL).await.unwrap();
    let arn = store.create_copy(copy("DB_PASSWORD"), &value("one")).await.unwrap();

    let err = store.prepare_launch(WF, &[CreatedCopy { name: "DB_PASSWORD".into(), reference: arn }]).await;

    match err {
        Err(ProviderError::Rejected(m)) => assert!(m.contains("custom job definition get no secrets"), "{m}"),
        other => panic!("expected Rejected, got {other:?}"),
    }
    // Without secrets the same environment launches.
    assert!(store.prepare_launch(WF, &[]).await.is_ok());
}

#[tokio::test]
async fn delete_copy_removes_the_secret_for_good_and_a_missing_copy_is_deleted() {
    let moto = Moto::start().await;
    let store = open_store(&moto, INSTALL).await;
    store.create_copy(copy("DB_PASSWORD"), &value("one")).await.unwrap();

    store.delete_copy(copy("DB_PASSWORD")).await.unwrap();
    store.delete_copy(copy("DB_PASSWORD")).await.unwrap();
    store.delete_copy(copy("NEVER_MADE")).await.unwrap();

    assert_eq!(secret_value(&moto, "tower-1k0K4WlGep8ZTM/DB_PASSWORD").await, None);
    // Force-deleted, not scheduled: even listing planned deletions shows nothing.
    let listed =
        moto.secrets_client().await.list_secrets().include_planned_deletion(true).send().await.unwrap();
    assert!(
        listed.secret_list().is_empty(),
        "{:?}",
        listed.secret_list().iter().map(|s| s.name()).collect::<Vec<_>>()
    );
    // The name is free again at once.
    store.create_copy(copy("DB_PASSWORD"), &value("again")).await.unwrap();
}

#[tokio::test]
async fn list_managed_returns_only_this_installs_copies() {
    let moto = Moto::start().await;
    let ours = open_store(&moto, INSTALL).await;
    let theirs = open_store(&moto, "install-test-b").await;
    ours.create_copy(copy("DB_PASSWORD"), &value("one")).await.unwrap();
    ours.create_copy(CopySpec { workflow_id: "2ZZZZZZZZZZZZZ", name: "API_TOKEN" }, &value("two"))
        .await
        .unwrap();
    theirs
        .create_copy(CopySpec { workflow_id: "3YYYYYYYYYYYYY", name: "OTHER" }, &value("three"))
        .await
        .unwrap();
    let client = moto.secrets_client().await;
    client.create_secret().name("tower-4XXXXXXXXXXXXX/UNTAGGED").secret_string("x").send().await.unwrap();
    // Tagged with our install id as a value of another key: the key/value pair must match.
    client
        .create_secret()
        .name("tower-5WWWWWWWWWWWWW/TRICKY")
        .secret_string("x")
        .tags(aws_sdk_secretsmanager::types::Tag::builder().key("managed-by").value("someone").build())
        .tags(aws_sdk_secretsmanager::types::Tag::builder().key("owner").value(INSTALL).build())
        .send()
        .await
        .unwrap();

    let mut listed = ours.list_managed().await.unwrap();
    listed.sort_by(|a, b| a.workflow_id.cmp(&b.workflow_id));

    assert_eq!(
        listed,
        vec![
            ManagedCopy { workflow_id: WF.into(), name: "DB_PASSWORD".into() },
            ManagedCopy { workflow_id: "2ZZZZZZZZZZZZZ".into(), name: "API_TOKEN".into() },
        ]
    );
    assert_eq!(
        theirs.list_managed().await.unwrap(),
        vec![ManagedCopy { workflow_id: "3YYYYYYYYYYYYY".into(), name: "OTHER".into() }]
    );
}

#[tokio::test]
async fn preflight_passes_against_moto_and_leaves_no_probe_behind() {
    let moto = Moto::start().await;
    let store = open_store(&moto, INSTALL).await;

    store.preflight().await.expect("preflight passes");

    let listed =
        moto.secrets_client().await.list_secrets().include_planned_deletion(true).send().await.unwrap();
    assert!(listed.secret_list().is_empty());
    assert!(store.list_managed().await.unwrap().is_empty());
}

#[tokio::test]
async fn preflight_against_an_unreachable_endpoint_fails_in_plain_words() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = ComputeConfig {
        region: Some("us-east-1".into()),
        endpoint_url: Some(format!("http://127.0.0.1:{port}")),
        ..Default::default()
    };
    let store = open_with(&config, Some(Moto::keys_json()), INSTALL).await.unwrap();

    let failure = store.preflight().await.unwrap_err();

    assert_eq!(failure.step, "list secrets");
    assert!(failure.message.contains(&format!("127.0.0.1:{port}")), "{}", failure.message);
    assert!(failure.message.to_lowercase().contains("could not"), "{}", failure.message);
    assert!(failure.fix.contains("secretsmanager:ListSecrets"), "the fix carries the policies");
    let err = store.create_copy(copy("DB_PASSWORD"), &value("never-shown")).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(!err.to_string().contains("never-shown"));
}

#[tokio::test]
async fn assume_role_credentials_go_through_sts() {
    // moto's STS hands out credentials for any role; this proves the AssumeRole wiring (the
    // request is made and its credentials used), not AWS's trust policy checks.
    let moto = Moto::start().await;
    let keys = r#"{"accessKey":"testing","secretKey":"testing",
                   "assumeRoleArn":"arn:aws:iam::123456789012:role/strongroom","externalId":"ext-1"}"#;
    let store = open_with(&aws_config(&moto), Some(keys), INSTALL).await.unwrap();
    store.create_copy(copy("DB_PASSWORD"), &value("one")).await.unwrap();
    assert_eq!(store.list_managed().await.unwrap().len(), 1);
}

#[tokio::test]
async fn settings_that_cannot_work_are_refused_when_opening() {
    let moto = Moto::start().await;
    let no_region = ComputeConfig { region: None, ..aws_config(&moto) };
    let bad_endpoint = ComputeConfig { endpoint_url: Some("ftp://x".into()), ..aws_config(&moto) };
    for (config, keys, expected) in [
        (&no_region, Some(Moto::keys_json()), "no region"),
        (&bad_endpoint, Some(Moto::keys_json()), "not an http"),
        (&aws_config(&moto), Some(r#"{"accessKey":"AKIA-only"}"#), "both accessKey and secretKey"),
        (&aws_config(&moto), Some("not json at all: hunter2"), "not a JSON object"),
    ] {
        match open_with(config, keys, INSTALL).await {
            Err(ProviderError::Rejected(m)) => {
                assert!(m.contains(expected), "{m}");
                assert!(!m.contains("hunter2") && !m.contains("AKIA-only"), "{m}");
            }
            Err(other) => panic!("expected Rejected, got {other:?}"),
            Ok(_) => panic!("expected {expected}"),
        }
    }
}
