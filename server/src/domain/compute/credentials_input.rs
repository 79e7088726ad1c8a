//! Checks the key material of new or replaced credentials and splits it into what may be shown
//! (the public fields) and what is sealed (the whole keys document).
//!
//! Guarantees: no message built here quotes a secret field, and neither does a parse error (a
//! JSON error can quote the input, so a fixed sentence replaces it); secret fields never reach a
//! type that implements `Debug` or `Serialize` apart from the one-shot buffer that is sealed.

use crate::crypto::SecretBytes;
use app::error::AppError;
use app::model::{CloudProvider, CredentialsPublic};
use app::ports::CredentialKeysInput;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// AWS and Google stores cap a secret at 64 KiB; a key file is far smaller.
const MAX_KEY_FILE: usize = 64 * 1024;
const MAX_SECRET_KEY: usize = 1024;

pub(crate) struct CheckedKeys {
    pub provider: CloudProvider,
    pub public: CredentialsPublic,
    /// The keys document (JSON) to seal.
    pub sealed_document: SecretBytes,
}

/// What is sealed for AWS: every field, so the provisioning path needs nothing else.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AwsDocument<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    access_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    assume_role_arn: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id: Option<&'a str>,
}

/// What is sealed for Google: the key file as issued.
#[derive(Serialize)]
struct GoogleDocument<'a> {
    data: &'a str,
}

/// The fields of a Google service-account key file we check. No `Debug`: it holds the private key.
#[derive(Deserialize)]
struct GoogleKeyFile {
    #[serde(rename = "type")]
    kind: Option<String>,
    client_email: Option<String>,
    private_key: Option<String>,
}

fn bad(message: &str) -> AppError {
    AppError::bad_request(message)
}

/// Empty or blank optional fields count as absent (forms send empty strings).
fn present(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

fn present_secret(value: Option<SecretString>) -> Option<SecretString> {
    value.filter(|v| !v.expose_secret().trim().is_empty())
}

pub(crate) fn check(keys: CredentialKeysInput) -> Result<CheckedKeys, AppError> {
    match keys {
        CredentialKeysInput::Aws { access_key, secret_key, assume_role_arn, external_id } => check_aws(
            present(access_key),
            present_secret(secret_key),
            present(assume_role_arn),
            present(external_id),
        ),
        CredentialKeysInput::Google { data } => check_google(present_secret(data)),
        CredentialKeysInput::Ssh { private_key, passphrase } => {
            super::ssh_key_input::check_ssh(present_secret(private_key), present_secret(passphrase))
        }
    }
}

fn check_aws(
    access_key: Option<String>,
    secret_key: Option<SecretString>,
    assume_role_arn: Option<String>,
    external_id: Option<String>,
) -> Result<CheckedKeys, AppError> {
    match (&access_key, &secret_key) {
        (Some(_), None) | (None, Some(_)) => {
            return Err(bad(
                "Give both the access key id and the secret access key, or neither (then the role is \
                 assumed with the Strongroom host's own AWS credentials).",
            ))
        }
        (None, None) if assume_role_arn.is_none() => {
            return Err(bad("Give an access key id and secret access key, a role ARN to assume, or both."))
        }
        _ => {}
    }
    if let Some(id) = &access_key {
        if !(16..=128).contains(&id.len()) || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(bad(
                "The access key id must be 16 to 128 letters or digits (for example AKIAIOSFODNN7EXAMPLE).",
            ));
        }
    }
    if let Some(secret) = &secret_key {
        let s = secret.expose_secret();
        if s.len() > MAX_SECRET_KEY || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("The secret access key must be at most 1024 characters, without spaces."));
        }
    }
    if let Some(arn) = &assume_role_arn {
        check_role_arn(arn, "role to assume")?;
    }
    if let Some(external_id) = &external_id {
        if assume_role_arn.is_none() {
            return Err(bad("An external id only applies with a role to assume."));
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c);
        if !(2..=1224).contains(&external_id.len()) || !external_id.chars().all(allowed) {
            return Err(bad(
                "The external id must be 2 to 1224 letters, digits or any of _+=,.@:/- (AWS's rule).",
            ));
        }
    }
    let document = AwsDocument {
        access_key: access_key.as_deref(),
        secret_key: secret_key.as_ref().map(|s| s.expose_secret()),
        assume_role_arn: assume_role_arn.as_deref(),
        external_id: external_id.as_deref(),
    };
    let sealed_document = SecretBytes::from(serde_json::to_vec(&document).map_err(crate::domain::internal)?);
    Ok(CheckedKeys {
        provider: CloudProvider::Aws,
        public: CredentialsPublic {
            access_key,
            assume_role_arn,
            external_id,
            ..CredentialsPublic::default()
        },
        sealed_document,
    })
}

/// An IAM role ARN: `arn:<partition>:iam::<12-digit account>:role/<path and name>`.
pub(crate) fn check_role_arn(arn: &str, what: &str) -> Result<(), AppError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_+=,.@/-".contains(c);
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5].strip_prefix("role/").is_some_and(|name| !name.is_empty() && name.len() <= 512)
        && parts[5].chars().all(allowed);
    if ok {
        Ok(())
    } else {
        Err(AppError::bad_request(format!(
            "The {what} must be an IAM role ARN such as arn:aws:iam::123456789012:role/strongroom."
        )))
    }
}

fn check_google(data: Option<SecretString>) -> Result<CheckedKeys, AppError> {
    let Some(data) = data else {
        return Err(bad("Give the service account's JSON key file."));
    };
    let text = data.expose_secret();
    if text.len() > MAX_KEY_FILE {
        return Err(bad("The key file can be at most 64 KiB."));
    }
    let refused = || {
        bad("The key must be a Google service-account JSON key file (with \"type\": \"service_account\", \
             client_email and private_key).")
    };
    let file: GoogleKeyFile = serde_json::from_str(text).map_err(|_| refused())?;
    let email = file.client_email.filter(|e| e.contains('@') && e.len() <= 254).ok_or_else(refused)?;
    let has_key = file.private_key.as_deref().is_some_and(|k| k.contains("PRIVATE KEY"));
    if file.kind.as_deref() != Some("service_account") || !has_key {
        return Err(refused());
    }
    let sealed_document = SecretBytes::from(
        serde_json::to_vec(&GoogleDocument { data: text }).map_err(crate::domain::internal)?,
    );
    Ok(CheckedKeys {
        provider: CloudProvider::Google,
        public: CredentialsPublic { service_account_email: Some(email), ..CredentialsPublic::default() },
        sealed_document,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws(access: Option<&str>, secret: Option<&str>, role: Option<&str>) -> CredentialKeysInput {
        CredentialKeysInput::Aws {
            access_key: access.map(String::from),
            secret_key: secret.map(|s| SecretString::from(s.to_string())),
            assume_role_arn: role.map(String::from),
            external_id: None,
        }
    }

    #[test]
    fn aws_keys_keep_the_secret_out_of_the_public_fields_and_errors() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let checked = check(aws(Some("AKIAIOSFODNN7EXAMPLE"), Some(secret), None)).ok().unwrap();
        assert_eq!(checked.public.access_key.as_deref(), Some("AKIAIOSFODNN7EXAMPLE"));
        assert!(!serde_json::to_string(&checked.public).unwrap().contains(secret));
        let sealed = String::from_utf8(checked.sealed_document.expose_secret().to_vec()).unwrap();
        assert!(sealed.contains(secret) && sealed.contains("secretKey"));

        for (keys, why) in [
            (aws(Some("AKIAIOSFODNN7EXAMPLE"), None, None), "half a key pair"),
            (aws(None, Some(secret), None), "half a key pair"),
            (aws(None, None, None), "nothing"),
            (aws(Some("short"), Some(secret), None), "short id"),
            (aws(None, None, Some("arn:aws:iam::12:role/x")), "bad account"),
            (aws(None, None, Some("arn:aws:s3:::bucket")), "not a role"),
        ] {
            let error = check(keys).err().unwrap_or_else(|| panic!("{why} accepted"));
            assert!(!error.to_string().contains(secret), "{why}");
        }
        assert!(check(aws(None, None, Some("arn:aws:iam::123456789012:role/strongroom"))).is_ok());
    }

    #[test]
    fn a_google_key_file_gives_its_email_and_a_broken_one_is_not_quoted() {
        let private = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq\n-----END PRIVATE KEY-----\n";
        let file = serde_json::json!({
            "type": "service_account", "client_email": "sa@p.iam.gserviceaccount.com", "private_key": private
        })
        .to_string();
        let checked = check(CredentialKeysInput::Google { data: Some(file.into()) }).ok().unwrap();
        assert_eq!(checked.public.service_account_email.as_deref(), Some("sa@p.iam.gserviceaccount.com"));
        let broken = format!("{{\"private_key\": \"{}\"", "MIIEvQIBADANBgkq");
        let error = check(CredentialKeysInput::Google { data: Some(broken.into()) }).err().unwrap();
        assert!(!error.to_string().contains("MIIEvQ"), "{error}");
    }
}
