//! A deadline on rendering a page, with one fresh try when it passes.
//!
//! Now and then a page's server-side render waits forever: every thread of the server is idle,
//! the render's future is pending, and nothing is left to wake it (thread stacks taken by the
//! integration tests' hang watch, 2026-12-02: twice in one run of the API tests with four at a
//! time; the browser suite has seen what is likely the same, a page whose body never ended).
//! Leptos has mended several such lost wake-ups between its resources and `<Suspense>`
//! (leptos#4851, leptos#4673, the fixes are in the versions used here) and still lists others as
//! open (leptos#4578). The race is rare, so a second render of the same request almost always
//! finishes: a page that has not finished, body included, within `PAGE_DEADLINE` is logged and
//! rendered once more; when that one does not finish either, the browser gets a 503 asking it to
//! try again, never a page that loads forever.
//!
//! Only GET and HEAD are tried again: pages change nothing (`proof::get_is_safe`), except that a
//! refusal met while rendering is recorded in the audit log, so a page refused and rendered twice
//! has two `access.denied` entries. The whole page is read here before it is sent, which is
//! what lets a stalled ending be tried again too. Pages that load data render whole before their
//! first byte anyway (`SsrMode::Async`); the others (sign-in, set-up, your secrets, tokens…)
//! streamed their data after the frame and now send both together, milliseconds later.

use axum::body::{to_bytes, Body};
use axum::extract::MatchedPath;
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use prometheus::IntCounterVec;
use std::convert::Infallible;
use std::task::{Context, Poll};
use std::time::Duration;
use tower::{Layer, Service, ServiceExt};

/// Far beyond any page's render here (milliseconds; seconds at worst under load), and short
/// enough that a stalled first try and a second one stay within a browser's patience.
pub const PAGE_DEADLINE: Duration = Duration::from_secs(10);

/// A rendered page is tens of kilobytes; this only bounds what is held in memory.
const PAGE_LIMIT: usize = 16 * 1024 * 1024;

#[derive(Clone)]
pub struct PageDeadlineLayer {
    deadline: Duration,
    /// Counts the second tries by route and outcome (`rendered` or `unavailable`), for
    /// `/metrics`: an operator sees how often this happens.
    retries: IntCounterVec,
}

impl PageDeadlineLayer {
    pub fn new(deadline: Duration, retries: IntCounterVec) -> Self {
        PageDeadlineLayer { deadline, retries }
    }
}

impl<S> Layer<S> for PageDeadlineLayer {
    type Service = PageDeadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        PageDeadline { inner, deadline: self.deadline, retries: self.retries.clone() }
    }
}

#[derive(Clone)]
pub struct PageDeadline<S> {
    inner: S,
    deadline: Duration,
    retries: IntCounterVec,
}

impl<S> Service<Request<Body>> for PageDeadline<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // The service polled ready is the one to call; a clone stays for the next request.
        let fresh = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, fresh);
        let deadline = self.deadline;
        let retries = self.retries.clone();
        Box::pin(async move {
            if !matches!(*request.method(), Method::GET | Method::HEAD) {
                return ready.oneshot(request).await;
            }
            let again = bodiless_copy(&request);
            if let Some(page) = render_within(ready.clone(), request, deadline).await {
                return Ok(page);
            }
            // Only the path: a query string is the client's and never needed to find the page.
            let path = again.uri().path().to_owned();
            let route = again.extensions().get::<MatchedPath>().map_or("unknown", |r| r.as_str()).to_owned();
            tracing::warn!(%path, ?deadline, "a page did not finish rendering in time; rendering it again");
            if let Some(page) = render_within(ready, again, deadline).await {
                retries.with_label_values(&[&route, "rendered"]).inc();
                return Ok(page);
            }
            retries.with_label_values(&[&route, "unavailable"]).inc();
            tracing::error!(%path, ?deadline, "a page did not finish rendering in time, twice; answered 503");
            Ok(unavailable())
        })
    }
}

/// The page, read whole, or `None` when its headers or the end of its body did not come within
/// `deadline` (or the body broke off).
async fn render_within<S>(service: S, request: Request<Body>, deadline: Duration) -> Option<Response>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible>,
{
    let rendered = async {
        let Ok(response) = service.oneshot(request).await;
        let (parts, body) = response.into_parts();
        let body = to_bytes(body, PAGE_LIMIT).await.ok()?;
        Some(Response::from_parts(parts, Body::from(body)))
    };
    tokio::time::timeout(deadline, rendered).await.ok().flatten()
}

/// The same GET or HEAD again: method, address, headers and what the outer layers attached
/// (the signed-in caller, the client address); such a request has no body.
fn bodiless_copy(request: &Request<Body>) -> Request<Body> {
    let mut copy = Request::new(Body::empty());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    *copy.extensions_mut() = request.extensions().clone();
    copy
}

fn unavailable() -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        "This page took too long to prepare. Please reload it in a moment.\n",
    )
        .into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    const SHORT: Duration = Duration::from_millis(100);

    fn layer() -> PageDeadlineLayer {
        PageDeadlineLayer::new(SHORT, crate::http::ops::Metrics::new().page_retries)
    }

    /// A page handler whose first `hangs` renders never finish: without `stall_body` they never
    /// answer, with it they answer and then never end their body.
    fn handler(
        hangs: usize,
        stall_body: bool,
        calls: Arc<AtomicUsize>,
    ) -> impl Service<Request<Body>, Response = Response, Error = Infallible, Future: Send> + Clone + Send
    {
        tower::service_fn(move |request: Request<Body>| {
            let call = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                let answer = format!("{} {}", request.method(), request.uri().path());
                if call >= hangs {
                    return Ok::<_, Infallible>(Response::new(Body::from(answer)));
                }
                if !stall_body {
                    std::future::pending::<()>().await;
                }
                let stalled = futures_util::stream::pending::<Result<axum::body::Bytes, Infallible>>();
                Ok(Response::new(Body::from_stream(stalled)))
            }
        })
    }

    async fn page(
        service: impl Service<Request<Body>, Response = Response, Error = Infallible, Future: Send + 'static>
            + Clone
            + Send
            + 'static,
        method: Method,
    ) -> (StatusCode, String) {
        let request = Request::builder()
            .method(method)
            .uri("/orgs/1/workspaces/2/audit?who=x")
            .body(Body::empty())
            .unwrap();
        let response = layer().layer(service).oneshot(request).await.unwrap();
        let status = response.status();
        let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn a_page_that_finishes_is_rendered_once() {
        let calls = Arc::new(AtomicUsize::new(0));
        let answer = page(handler(0, false, calls.clone()), Method::GET).await;
        assert_eq!(answer, (StatusCode::OK, "GET /orgs/1/workspaces/2/audit".into()));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_render_that_never_answers_is_tried_again() {
        let calls = Arc::new(AtomicUsize::new(0));
        let answer = page(handler(1, false, calls.clone()), Method::GET).await;
        assert_eq!(answer, (StatusCode::OK, "GET /orgs/1/workspaces/2/audit".into()));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_body_that_never_ends_is_tried_again() {
        let calls = Arc::new(AtomicUsize::new(0));
        let answer = page(handler(1, true, calls.clone()), Method::HEAD).await;
        assert_eq!(answer, (StatusCode::OK, "HEAD /orgs/1/workspaces/2/audit".into()));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn two_stalled_renders_get_a_503_that_says_to_reload() {
        let calls = Arc::new(AtomicUsize::new(0));
        let request = Request::get("/account").body(Body::empty()).unwrap();
        let retries = crate::http::ops::Metrics::new().page_retries;
        let layer = PageDeadlineLayer::new(SHORT, retries.clone());
        let response = layer.layer(handler(2, true, calls.clone())).oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains("reload"));
        assert_eq!(calls.load(Ordering::SeqCst), 2, "tried twice, no more");
        assert_eq!(retries.with_label_values(&["unknown", "unavailable"]).get(), 1);
        assert_eq!(retries.with_label_values(&["unknown", "rendered"]).get(), 0);
    }

    #[tokio::test]
    async fn other_methods_pass_through_without_a_deadline_or_a_second_try() {
        let calls = Arc::new(AtomicUsize::new(0));
        let service = handler(1, true, calls.clone());
        let request = Request::post("/sfn/anything").body(Body::empty()).unwrap();
        let response = layer().layer(service).oneshot(request).await.unwrap();
        // The stalled body is handed on as it is: not read here, not replaced.
        let read = tokio::time::timeout(SHORT * 3, to_bytes(response.into_body(), 1 << 20)).await;
        assert!(read.is_err(), "the body was not buffered or cut short");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
