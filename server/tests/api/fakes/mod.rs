//! Stand-ins for the clouds the tests cannot reach: moto for AWS (Secrets Manager, Batch, STS),
//! an STS stand-in that verifies web identity tokens as AWS does (in front of moto), a
//! wire-faithful fake of Google Secret Manager, a Google STS and IAM Credentials stand-in that
//! verifies them as Google does (in front of that fake), a Microsoft Entra ID token endpoint that
//! checks client assertions as Azure does, the token check the stand-ins share,
//! endpoints that misbehave on purpose, and the AWS Batch compute environment the tests aim at them.

pub mod aws_env;
pub mod azure_login;
pub mod bad_endpoints;
pub mod google_sts;
pub mod gsm;
pub mod jwt_check;
pub mod moto;
pub mod sts;
