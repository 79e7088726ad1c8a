//! Refusing cross-site state-changing requests (CSRF), on top of SameSite=Lax cookies.
//!
//! A browser names the page a request comes from in `Origin` (on every POST, PUT, DELETE, even
//! same-origin ones) and, in current browsers, says `Sec-Fetch-Site: same-origin` for the same.
//! Neither can be set by a page's script. So a state-changing request:
//! - with an `Origin` must name this server's public origin (the `public_url` setting: the
//!   `Host` header is the attacker's choice under DNS rebinding, so it is not trusted for this);
//! - without one must say `Sec-Fetch-Site: same-origin`, if it rides on a session cookie.
//!   Requests without the session cookie (bearer tokens from the CLI and Nextflow, a sign-in
//!   form) have no ambient authority to abuse and pass.

use axum::extract::Request;
use axum::http::{header, Method};

pub struct CrossSitePolicy {
    /// `scheme://host[:port]` of `public_url`; `None` if it does not parse (then `Host` is used).
    pub public_origin: Option<String>,
}

impl CrossSitePolicy {
    /// Why the request must be refused, or `None` when it may go on.
    pub fn refusal(&self, request: &Request, has_session_cookie: bool) -> Option<&'static str> {
        if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
            return None;
        }
        let headers = request.headers();
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("null");
            return (!self.is_own_origin(request, origin)).then_some("Cross-site requests are not accepted.");
        }
        let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
        match fetch_site {
            Some(site) if site.eq_ignore_ascii_case("same-origin") => None,
            Some(_) => Some("Cross-site requests are not accepted."),
            None if has_session_cookie => Some(
                "A signed-in request that changes something must come from this site's pages \
                 (the browser sends Origin); scripts use an access token instead.",
            ),
            None => None,
        }
    }

    fn is_own_origin(&self, request: &Request, origin: &str) -> bool {
        if origin == "null" {
            return false;
        }
        match &self.public_origin {
            Some(public) => origin.trim_end_matches('/').eq_ignore_ascii_case(public),
            None => {
                let host =
                    request.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
                let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
                !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn policy() -> CrossSitePolicy {
        CrossSitePolicy { public_origin: Some("https://sr.example.org".into()) }
    }

    fn request(method: Method, headers: &[(&str, &str)]) -> Request {
        let mut builder =
            Request::builder().method(method).uri("/sfn/login").header(header::HOST, "sr.example.org");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::empty()).unwrap()
    }

    fn refused(method: Method, headers: &[(&str, &str)], cookie: bool) -> bool {
        policy().refusal(&request(method, headers), cookie).is_some()
    }

    #[test]
    fn writes_must_come_from_the_public_origin() {
        assert!(!refused(Method::POST, &[("origin", "https://sr.example.org")], true));
        assert!(!refused(Method::DELETE, &[("origin", "https://SR.example.org")], true));
        assert!(refused(Method::POST, &[("origin", "https://evil.example")], true));
        assert!(refused(Method::POST, &[("origin", "http://sr.example.org")], true), "scheme counts");
        assert!(refused(Method::POST, &[("origin", "https://sr.example.org:8443")], true), "port counts");
        assert!(refused(Method::POST, &[("origin", "null")], false));
        // DNS rebinding: Host and Origin agree, but neither is the public URL.
        let rebound = Request::post("/sfn/login")
            .header(header::HOST, "evil.example")
            .header(header::ORIGIN, "http://evil.example")
            .body(Body::empty())
            .unwrap();
        assert!(policy().refusal(&rebound, true).is_some());
    }

    #[test]
    fn cookie_writes_without_origin_need_same_origin_fetch_metadata() {
        assert!(refused(Method::POST, &[], true));
        assert!(!refused(Method::POST, &[("sec-fetch-site", "same-origin")], true));
        assert!(refused(Method::POST, &[("sec-fetch-site", "cross-site")], true));
        assert!(refused(Method::POST, &[("sec-fetch-site", "same-site")], false));
        // No session cookie (bearer tokens, a sign-in form of an old browser): nothing to abuse.
        assert!(!refused(Method::POST, &[], false));
        // Reads are never refused.
        assert!(!refused(Method::GET, &[("origin", "https://evil.example")], true));
    }

    #[test]
    fn without_a_parsable_public_url_the_host_is_compared() {
        let policy = CrossSitePolicy { public_origin: None };
        let ok = request(Method::POST, &[("origin", "http://sr.example.org")]);
        assert!(policy.refusal(&ok, true).is_none());
        let other = request(Method::POST, &[("origin", "http://sr.example.org:3001")]);
        assert!(policy.refusal(&other, true).is_some());
    }
}
