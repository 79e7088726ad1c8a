//! Errors from a custom endpoint that is not the provider's own (AWS's `*.amazonaws.com`,
//! Google's `*.googleapis.com`): its answer only sorts the error (denied, not found, throttled,
//! unreachable, rejected). Nothing it said (message, code, headers, body) is repeated to users
//! or logs, since a hostile server could otherwise use this server to read internal services
//! and show their answers through its error messages.

use super::ProviderError;

/// What the caller knows of a failed call besides its classification.
pub(crate) struct Answer {
    /// The HTTP status, when the endpoint answered.
    pub status: Option<u16>,
    /// Whether the endpoint said the resource does not exist.
    pub not_found: bool,
    /// Whether the call ran out of time (rather than failing to connect).
    pub timed_out: bool,
    /// A status name from a fixed set the client parsed the answer into (Google's
    /// `PERMISSION_DENIED`), never free text from the endpoint.
    pub code: Option<String>,
}

/// Rewrites `error` (already classified) into a message of our own words only.
pub(crate) fn opaque(error: ProviderError, action: &str, answer: Answer) -> ProviderError {
    let code = answer.code.clone();
    let mapped = words(error, action, &answer);
    match code {
        Some(code) => prefixed(mapped, &code),
        None => mapped,
    }
}

fn prefixed(error: ProviderError, code: &str) -> ProviderError {
    match error {
        ProviderError::Throttled(m) => ProviderError::Throttled(format!("{code}: {m}")),
        ProviderError::Unavailable(m) => ProviderError::Unavailable(format!("{code}: {m}")),
        ProviderError::Rejected(m) => ProviderError::Rejected(format!("{code}: {m}")),
        ProviderError::Denied { permission, message } => {
            ProviderError::Denied { permission, message: format!("{code}: {message}") }
        }
    }
}

fn words(error: ProviderError, action: &str, answer: &Answer) -> ProviderError {
    let status = answer.status.map(|s| format!(", HTTP {s}")).unwrap_or_default();
    match error {
        ProviderError::Throttled(_) => ProviderError::Throttled(format!(
            "the endpoint is limiting the rate of {action} (throttled{status})"
        )),
        ProviderError::Denied { permission, .. } => ProviderError::Denied {
            message: format!("the endpoint refused {action} for these credentials (denied{status})"),
            permission,
        },
        ProviderError::Unavailable(_) if answer.timed_out => {
            ProviderError::Unavailable(format!("the endpoint did not answer {action} in time (unreachable)"))
        }
        ProviderError::Unavailable(_) => ProviderError::Unavailable(format!(
            "the endpoint could not be reached or failed to answer {action} (unreachable{status})"
        )),
        ProviderError::Rejected(_) if answer.not_found => {
            ProviderError::Rejected(format!("the endpoint found nothing for {action} (not found{status})"))
        }
        ProviderError::Rejected(_) => {
            ProviderError::Rejected(format!("the endpoint rejected {action} (rejected{status})"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_words_are_replaced_by_the_category() {
        let answer = |status, not_found| Answer { status, not_found, timed_out: false, code: None };
        let said = "MARKER internal-service says hello";
        for (error, category) in [
            (ProviderError::Throttled(said.into()), "throttled"),
            (ProviderError::Unavailable(said.into()), "unreachable"),
            (ProviderError::Rejected(said.into()), "rejected"),
            (ProviderError::Denied { permission: "p".into(), message: said.into() }, "denied"),
        ] {
            let retryable = error.is_retryable();
            let mapped = opaque(error, "secretsmanager:ListSecrets", answer(Some(400), false));
            assert!(!mapped.to_string().contains("MARKER"), "{mapped}");
            assert!(mapped.to_string().contains(category), "{mapped}");
            assert_eq!(mapped.is_retryable(), retryable, "the category is kept");
        }
        let missing = opaque(ProviderError::Rejected(said.into()), "x", answer(Some(404), true));
        assert!(missing.to_string().contains("not found"), "{missing}");
    }
}
