//! What the tests use besides the app: the real test cluster (`cluster`), and `head_job.py`, the
//! stand-in head job of the local launch-command tests (run by path).

pub mod cluster;
