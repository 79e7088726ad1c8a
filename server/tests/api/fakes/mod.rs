//! Stand-ins for the clouds the tests cannot reach: moto for AWS (Secrets Manager, Batch, STS)
//! and a wire-faithful fake of Google Secret Manager.

pub mod gsm;
pub mod moto;
