//! The Google Batch target, driven through `providers::open` with Google's own client against
//! the Secret Manager fake (`fakes::gsm`). This module opens stores on the fake for the files
//! below.

mod copies;
mod failures;
mod opening;

use crate::fakes::gsm::FakeGsm;
use app::model::{ComputeConfig, Platform};
use server::crypto::SecretBytes;
use server::providers::{self, CopySpec, HostIdentity, SharedStore, Target};

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
        managed_identity: None,
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
