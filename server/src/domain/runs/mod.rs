//! Runs: launching (`launch`, with the checks of `launch_input`), the launch command of HPC
//! environments (`launch_command`, `launch_env`), reading and ending runs and the trace reports
//! of Nextflow (`lifecycle`), and opening the secret store of a run's target (`stores`).

pub mod launch;
pub mod launch_command;
pub mod launch_env;
pub mod launch_input;
pub mod lifecycle;
pub mod stores;
