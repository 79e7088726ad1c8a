//! Sorts the Google client's errors into [`ProviderError`]s the worker can act on.
//!
//! Guarantees: a message is Google's status message or the transport error, neither of which
//! carries a request body, so never a value; an endpoint that is not Google's own has nothing it
//! said repeated (`opaque`), only the kind of failure and a status name from a fixed set.

use super::GoogleStore;
use crate::providers::opaque::{opaque, Answer};
use crate::providers::ProviderError;
use google_cloud_gax::error::rpc::Code;

impl GoogleStore {
    /// Maps a client error, repeating what the endpoint said only when it is Google itself.
    pub(super) fn error(&self, error: &google_cloud_gax::error::Error, permission: &str) -> ProviderError {
        let mapped = map_error(error, permission);
        if self.trusted_errors {
            return mapped;
        }
        let status = error.http_status_code();
        let not_found = status == Some(404) || code(error) == Some(Code::NotFound);
        // The status name is one of a fixed set the client parsed the answer into: safe to keep.
        let code = error.status().map(|s| s.code.name().to_string());
        let answer = Answer { status, not_found, timed_out: error.is_timeout(), code };
        opaque(mapped, permission, answer)
    }
}

/// The status code Google answered with, when it answered with one.
pub(super) fn code(error: &google_cloud_gax::error::Error) -> Option<Code> {
    error.status().map(|s| s.code)
}

/// Sorts a client error by what the worker should do. `permission` is the IAM permission the
/// call needs, named in `Denied`. Messages are Google's status message or the transport error:
/// neither carries a request body, so never a value.
pub fn map_error(error: &google_cloud_gax::error::Error, permission: &str) -> ProviderError {
    let http = error.http_status_code();
    if let Some(status) = error.status() {
        let message = if status.message.is_empty() {
            status.code.name().to_string()
        } else {
            format!("{}: {}", status.code.name(), status.message)
        };
        match status.code {
            Code::ResourceExhausted => return ProviderError::Throttled(message),
            Code::PermissionDenied => {
                return ProviderError::Denied { permission: permission.into(), message };
            }
            Code::Unavailable | Code::Internal | Code::DeadlineExceeded | Code::Aborted => {
                return ProviderError::Unavailable(message);
            }
            Code::Unauthenticated => {
                return ProviderError::Rejected(format!("the credentials were refused: {message}"));
            }
            // Not a gRPC status Google would send: fall back to the HTTP status below.
            Code::Unknown if http.is_some() => {}
            Code::Unknown => return ProviderError::Unavailable(message),
            _ => return ProviderError::Rejected(message),
        }
    }
    if let Some(http) = http {
        let message = format!("HTTP {http}");
        return match http {
            429 => ProviderError::Throttled(message),
            403 => ProviderError::Denied { permission: permission.into(), message },
            401 => ProviderError::Rejected(format!("the credentials were refused: {message}")),
            408 | 500..=599 => ProviderError::Unavailable(message),
            _ => ProviderError::Rejected(message),
        };
    }
    if error.is_authentication() {
        // Getting a token failed: transient failures (the token endpoint) may pass.
        return ProviderError::Unavailable(format!("could not get a Google access token: {error}"));
    }
    if error.is_timeout() || error.is_io() || error.is_connect() || error.is_transport() {
        return ProviderError::Unavailable(error.to_string());
    }
    ProviderError::Rejected(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use google_cloud_gax::error::rpc::Status;
    use google_cloud_gax::error::Error;

    fn service(code: Code, message: &str) -> Error {
        Error::service(Status::default().set_code(code).set_message(message))
    }

    #[test]
    fn google_statuses_sort_into_retryable_and_final_errors() {
        let perm = "secretmanager.secrets.create";
        assert!(matches!(
            map_error(&service(Code::ResourceExhausted, "quota"), perm),
            ProviderError::Throttled(_)
        ));
        assert!(matches!(
            map_error(&service(Code::Unavailable, "down"), perm),
            ProviderError::Unavailable(_)
        ));
        assert!(matches!(map_error(&service(Code::Internal, "oops"), perm), ProviderError::Unavailable(_)));
        assert!(matches!(
            map_error(&service(Code::InvalidArgument, "bad"), perm),
            ProviderError::Rejected(_)
        ));
        assert!(matches!(
            map_error(&service(Code::Unauthenticated, "who"), perm),
            ProviderError::Rejected(_)
        ));
        assert_eq!(
            map_error(&service(Code::PermissionDenied, "Permission denied on resource"), perm),
            ProviderError::Denied {
                permission: perm.into(),
                message: "PERMISSION_DENIED: Permission denied on resource".into()
            }
        );
        assert!(map_error(&Error::timeout("slow"), perm).is_retryable());
        assert!(map_error(&Error::io("reset"), perm).is_retryable());
    }

    #[test]
    fn bare_http_statuses_sort_the_same_way() {
        let http = |code: u16| Error::http(code, http::HeaderMap::new(), Default::default());
        let perm = "secretmanager.secrets.delete";
        assert!(matches!(map_error(&http(429), perm), ProviderError::Throttled(_)));
        assert!(matches!(map_error(&http(403), perm), ProviderError::Denied { .. }));
        assert!(matches!(map_error(&http(502), perm), ProviderError::Unavailable(_)));
        assert!(matches!(map_error(&http(400), perm), ProviderError::Rejected(_)));
    }
}
