//! Logs a response whose body took long or never ended.
//!
//! The access log line is written when the headers go out, so a page whose streamed body stalls
//! after them (the browser tests have seen a page load that never finished, with a 200 logged in a
//! few milliseconds) leaves no trace of its own. Every body is watched: one still unfinished when
//! it is dropped (the client gave up, or the server stopped) after `SLOW` or more is logged with
//! its path and age, and so is one that ended but took `SLOW` or more. A body dropped sooner is a
//! client that moved on, which is ordinary and not logged.

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::Uri;
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Far beyond any page or API answer of this server, and well inside a browser test's timeout.
const SLOW: Duration = Duration::from_secs(5);

pub async fn watch_unfinished_bodies(request: Request, next: Next) -> Response {
    // Every request takes this path: the URI's clone shares its bytes (a reference count) where
    // a copy of the path allocated a string each time. Only the path is ever logged: a query
    // string is the client's, and never needed to find the page.
    let uri = request.uri().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    response.map(|inner| Body::new(WatchedBody { inner, uri, started, ended: false }))
}

struct WatchedBody {
    inner: Body,
    uri: Uri,
    started: Instant,
    ended: bool,
}

impl HttpBody for WatchedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(None) = polled {
            self.end();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl WatchedBody {
    fn end(&mut self) {
        if self.ended {
            return;
        }
        self.ended = true;
        let took = self.started.elapsed();
        if took >= SLOW {
            tracing::warn!(path = %self.uri.path(), took_ms = took.as_millis() as u64, "a response body took long to end");
        }
    }
}

impl Drop for WatchedBody {
    fn drop(&mut self) {
        // A body known to be complete (a fixed-size one whose last bytes went out) has ended,
        // even if nobody polled it once more to hear so.
        if self.ended || self.inner.is_end_stream() {
            return;
        }
        let age = self.started.elapsed();
        if age >= SLOW {
            tracing::warn!(
                path = %self.uri.path(),
                age_ms = age.as_millis() as u64,
                "a response body was dropped unfinished (the client gave up or the server stopped)"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Runs `f` with this thread's log lines collected, and returns them.
    fn logs_of(f: impl FnOnce()) -> String {
        #[derive(Clone, Default)]
        struct Lines(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Lines {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber =
            tracing_subscriber::fmt().with_ansi(false).with_writer(move || writer.clone()).finish();
        tracing::subscriber::with_default(subscriber, f);
        let collected = lines.0.lock().unwrap().clone();
        String::from_utf8(collected).unwrap()
    }

    fn watched(inner: Body, age: Duration) -> WatchedBody {
        let started = Instant::now().checked_sub(age).unwrap();
        let uri = Uri::from_static("/orgs/lab/workspaces/w1/secrets?search=db");
        WatchedBody { inner, uri, started, ended: false }
    }

    fn never_ending() -> Body {
        Body::from_stream(futures_util::stream::pending::<Result<Bytes, std::io::Error>>())
    }

    /// Polls the body until it ends, on a runtime of its own.
    fn read_to_end(mut body: WatchedBody) {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
            while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
                frame.unwrap();
            }
        });
    }

    #[test]
    fn an_old_body_dropped_unfinished_is_logged_with_its_path() {
        let logs = logs_of(|| drop(watched(never_ending(), Duration::from_secs(30))));
        assert!(logs.contains("dropped unfinished"), "{logs}");
        assert!(logs.contains("/orgs/lab/workspaces/w1/secrets"), "{logs}");
        assert!(!logs.contains("search=db"), "the query string is never logged: {logs}");
    }

    #[test]
    fn a_young_body_dropped_unfinished_is_not_logged() {
        let logs = logs_of(|| drop(watched(never_ending(), Duration::ZERO)));
        assert_eq!(logs, "");
    }

    #[test]
    fn a_complete_body_is_not_reported_as_dropped() {
        let logs = logs_of(|| drop(watched(Body::empty(), Duration::from_secs(30))));
        assert_eq!(logs, "", "an empty body is complete without a poll");
        let logs = logs_of(|| read_to_end(watched(Body::from("done"), Duration::ZERO)));
        assert_eq!(logs, "");
    }

    #[test]
    fn a_body_that_ended_late_is_logged_once() {
        let logs = logs_of(|| read_to_end(watched(Body::from("late"), Duration::from_secs(30))));
        assert_eq!(logs.matches("took long to end").count(), 1, "{logs}");
        assert!(!logs.contains("dropped unfinished"), "{logs}");
    }
}
