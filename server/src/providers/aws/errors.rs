//! Turns AWS SDK errors into [`ProviderError`]s the worker can act on.
//!
//! Guarantees:
//! - the request is never formatted: the SDK's `Debug` of an operation input would print the
//!   `SecretString`. Only the error code, the HTTP status and the service's own message (or, for
//!   errors that never reached AWS, the transport's error chain) go into a message;
//! - a message is cut to a bounded length, so a misbehaving endpoint cannot fill the logs.
//!
//! What is proven where: moto answers neither `AccessDeniedException` nor throttling (it has no IAM
//! simulation and no quotas), so the `Denied` and `Throttled` mappings are tested here on
//! synthetic errors built with the SDK's own types, not against AWS.

use crate::providers::opaque::{opaque, Answer};
use crate::providers::ProviderError;
use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};

/// Longest message kept from a service answer.
const MAX_MESSAGE: usize = 300;

/// Error codes AWS uses when it wants callers to slow down.
const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
];

/// Error codes that mean the credentials may not do this (or are not credentials AWS knows).
const DENIED_CODES: &[&str] = &[
    "AccessDeniedException",
    "AccessDenied",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredTokenException",
    "ExpiredToken",
    "UnauthorizedOperation",
];

/// Error codes of a failure on AWS's side, worth retrying.
const UNAVAILABLE_CODES: &[&str] = &[
    "InternalServiceError",
    "InternalServiceErrorException",
    "InternalFailure",
    "InternalError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "ServerException",
];

/// How far a failed call got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// AWS answered with an error (code and status known).
    Answered,
    /// The call timed out.
    Timeout,
    /// The request never got an answer: connection refused, DNS, TLS, no credentials found.
    Dispatch,
    /// An answer came but could not be read.
    Response,
    /// The request could not even be built (a missing or invalid field).
    Construction,
}

/// The classification, on plain data so it is easy to test. `action` is the IAM action being
/// called (`secretsmanager:CreateSecret`); `detail` is already free of any value.
pub(crate) fn classify(
    action: &str,
    stage: Stage,
    code: Option<&str>,
    status: Option<u16>,
    detail: &str,
) -> ProviderError {
    let detail = shorten(detail);
    match stage {
        Stage::Timeout => {
            return ProviderError::Unavailable(format!(
                "{action} took too long and was abandoned ({detail})"
            ));
        }
        Stage::Dispatch => {
            return ProviderError::Unavailable(format!("could not reach AWS for {action}: {detail}"));
        }
        Stage::Response => {
            return ProviderError::Unavailable(format!(
                "AWS's answer to {action} could not be read: {detail}"
            ));
        }
        Stage::Construction => {
            return ProviderError::Rejected(format!("the {action} request could not be built: {detail}"));
        }
        Stage::Answered => {}
    }
    let code_str = code.unwrap_or("");
    let said = match (code, detail.is_empty()) {
        (Some(code), false) => format!("{code}: {detail}"),
        (Some(code), true) => code.to_string(),
        (None, false) => detail.clone(),
        (None, true) => format!("HTTP status {}", status.map_or("unknown".into(), |s| s.to_string())),
    };
    if THROTTLING_CODES.contains(&code_str) || status == Some(429) {
        ProviderError::Throttled(format!("AWS is limiting the rate of {action} ({said})"))
    } else if DENIED_CODES.contains(&code_str) || status == Some(403) || status == Some(401) {
        ProviderError::Denied {
            permission: action.to_string(),
            message: format!("AWS refused {action} for these credentials ({said})"),
        }
    } else if UNAVAILABLE_CODES.contains(&code_str) || status.is_some_and(|s| s >= 500) {
        ProviderError::Unavailable(format!("AWS failed to answer {action} ({said})"))
    } else {
        ProviderError::Rejected(format!("AWS refused {action} ({said})"))
    }
}

/// Maps any SDK error. Never formats the request.
pub(crate) fn map_sdk_error<E>(action: &str, err: &SdkError<E, HttpResponse>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let status = Some(service.raw().status().as_u16());
            classify(action, Stage::Answered, e.code(), status, e.message().unwrap_or(""))
        }
        SdkError::TimeoutError(_) => classify(action, Stage::Timeout, None, None, &chain(err)),
        SdkError::DispatchFailure(_) => classify(action, Stage::Dispatch, None, None, &chain(err)),
        SdkError::ResponseError(r) => {
            let status = Some(r.raw().status().as_u16());
            // A 5xx or 429 with an unreadable body is still what its status says.
            match status {
                Some(s) if s >= 500 || s == 429 || s == 403 => {
                    classify(action, Stage::Answered, None, status, "the answer had no readable body")
                }
                _ => classify(action, Stage::Response, None, status, &chain(err)),
            }
        }
        SdkError::ConstructionFailure(_) => classify(action, Stage::Construction, None, None, &chain(err)),
        _ => classify(action, Stage::Dispatch, None, None, &chain(err)),
    }
}

/// Maps an SDK error from a custom endpoint that is not AWS's own: sorted as AWS's would be,
/// but in our words only (`opaque`).
pub(crate) fn map_untrusted_sdk_error<E>(action: &str, err: &SdkError<E, HttpResponse>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = match err {
        SdkError::ServiceError(service) => Some(service.raw().status().as_u16()),
        SdkError::ResponseError(r) => Some(r.raw().status().as_u16()),
        _ => None,
    };
    let not_found =
        status == Some(404) || code_of(err).is_some_and(|c| c.contains("NotFound") || c.contains("NoSuch"));
    let timed_out = matches!(err, SdkError::TimeoutError(_));
    opaque(map_sdk_error(action, err), action, Answer { status, not_found, timed_out, code: None })
}

/// The error code, when AWS answered with one.
pub(crate) fn code_of<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> Option<&str> {
    match err {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}

/// The error and its sources in one line, in words (`dispatch failure: io error: ... Connection
/// refused`). Only `Display` is used: the SDK's `Debug` forms are noisy, and the chain of a
/// transport error holds no input field values.
pub(super) fn chain<E: std::error::Error + 'static>(err: &SdkError<E, HttpResponse>) -> String {
    let mut parts: Vec<String> = vec![err.to_string()];
    let mut source = std::error::Error::source(err);
    while let Some(e) = source {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

/// The message inside a provider error, without the variant's prefix.
pub(crate) fn message_of(error: &ProviderError) -> &str {
    match error {
        ProviderError::Throttled(m) | ProviderError::Unavailable(m) | ProviderError::Rejected(m) => m,
        ProviderError::Denied { message, .. } => message,
    }
}

fn shorten(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= MAX_MESSAGE {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(MAX_MESSAGE).collect();
    cut.push('…');
    cut
}

/// Replaces every occurrence of `secret` in `message` (defence in depth: a service or emulator
/// that echoed the request would otherwise put the value into an error).
pub(crate) fn scrub(error: ProviderError, secret: &str) -> ProviderError {
    if secret.len() < 4 {
        // Too short to scrub without mangling ordinary words; AWS never echoes SecretString.
        return error;
    }
    let clean = |m: String| m.replace(secret, "***");
    match error {
        ProviderError::Throttled(m) => ProviderError::Throttled(clean(m)),
        ProviderError::Unavailable(m) => ProviderError::Unavailable(clean(m)),
        ProviderError::Rejected(m) => ProviderError::Rejected(clean(m)),
        ProviderError::Denied { permission, message } => {
            ProviderError::Denied { permission, message: clean(message) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_secretsmanager::error::ErrorMetadata;
    use aws_sdk_secretsmanager::operation::create_secret::CreateSecretError;
    use aws_smithy_types::body::SdkBody;

    const CREATE: &str = "secretsmanager:CreateSecret";

    fn service_error(code: &str, status: u16, message: &str) -> SdkError<CreateSecretError, HttpResponse> {
        let meta = ErrorMetadata::builder().code(code).message(message).build();
        let raw = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        SdkError::service_error(CreateSecretError::generic(meta), raw)
    }

    #[test]
    fn throttling_codes_and_429_are_throttled() {
        for (code, status) in
            [("ThrottlingException", 400), ("TooManyRequestsException", 400), ("Whatever", 429)]
        {
            let e = map_sdk_error(CREATE, &service_error(code, status, "Rate exceeded"));
            assert!(matches!(e, ProviderError::Throttled(_)), "{code}/{status}: {e:?}");
            assert!(e.is_retryable());
        }
    }

    #[test]
    fn access_denied_names_the_action_being_called() {
        for (code, status) in
            [("AccessDeniedException", 400), ("UnrecognizedClientException", 400), ("SomethingElse", 403)]
        {
            let e = map_sdk_error(
                CREATE,
                &service_error(code, status, "User arn:aws:iam::1:user/x is not authorized"),
            );
            match e {
                ProviderError::Denied { permission, message } => {
                    assert_eq!(permission, CREATE);
                    assert!(message.contains("not authorized"), "{message}");
                }
                other => panic!("{code}/{status} gave {other:?}"),
            }
        }
    }

    #[test]
    fn server_errors_are_unavailable_and_validation_errors_rejected() {
        let e = map_sdk_error(CREATE, &service_error("InternalServiceError", 500, "oops"));
        assert!(matches!(e, ProviderError::Unavailable(_)), "{e:?}");
        let e = map_sdk_error(CREATE, &service_error("Odd", 503, ""));
        assert!(matches!(e, ProviderError::Unavailable(_)), "{e:?}");
        for code in
            ["ValidationException", "InvalidParameterException", "LimitExceededException", "ClientException"]
        {
            let e = map_sdk_error(CREATE, &service_error(code, 400, "bad"));
            assert!(matches!(e, ProviderError::Rejected(_)), "{code}: {e:?}");
            assert!(!e.is_retryable());
        }
    }

    #[test]
    fn transport_failures_are_unavailable_and_build_failures_rejected() {
        assert!(matches!(classify(CREATE, Stage::Timeout, None, None, "t"), ProviderError::Unavailable(_)));
        assert!(matches!(
            classify(CREATE, Stage::Dispatch, None, None, "refused"),
            ProviderError::Unavailable(_)
        ));
        assert!(matches!(
            classify(CREATE, Stage::Response, None, Some(200), "x"),
            ProviderError::Unavailable(_)
        ));
        assert!(matches!(classify(CREATE, Stage::Construction, None, None, "x"), ProviderError::Rejected(_)));
    }

    #[test]
    fn long_messages_are_cut_and_values_scrubbed() {
        let e = map_sdk_error(CREATE, &service_error("ValidationException", 400, &"x".repeat(5000)));
        assert!(e.to_string().len() < 600, "{}", e.to_string().len());
        let e = scrub(ProviderError::Rejected("echoed hunter2-secret back".into()), "hunter2-secret");
        assert_eq!(e, ProviderError::Rejected("echoed *** back".into()));
    }
}
