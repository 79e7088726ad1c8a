//! Runs. One service, `Runs`, implements three ports, each in the file that holds its rules:
//!
//! - `LaunchPort` in `launch` (with the checks of `launch_input` and `launch_fields`; the launch
//!   command of HPC environments is `launch_command` and `launch_env`; an SSH environment's target
//!   is resolved for the launcher in `ssh_target`, and a head job (over SSH, on AWS Batch or
//!   Google Batch) submitted by `head_job`);
//! - `RunsPort` in `lifecycle` (listing, describing and cancelling; ending a run);
//! - `TracePort` in `trace` (the reports of Nextflow's `-with-tower` client).
//!
//! `stores` opens the secret store of a run's target.

pub mod head_job;
pub mod launch;
pub mod launch_command;
pub mod launch_env;
pub mod launch_fields;
pub mod launch_input;
pub mod lifecycle;
pub mod ssh_target;
pub mod stores;
pub mod trace;

use crate::domain::Core;
use app::ports::{ComputeEnvsPort, SecretsPort};
use std::sync::Arc;

/// Launching and following runs: the `LaunchPort`, `RunsPort` and `TracePort`. A launch reads
/// the compute and secrets areas through their ports, as any caller does.
pub struct Runs {
    core: Arc<Core>,
    secrets: Arc<dyn SecretsPort>,
    compute_envs: Arc<dyn ComputeEnvsPort>,
}

impl Runs {
    pub fn new(
        core: Arc<Core>,
        secrets: Arc<dyn SecretsPort>,
        compute_envs: Arc<dyn ComputeEnvsPort>,
    ) -> Runs {
        Runs { core, secrets, compute_envs }
    }
}
