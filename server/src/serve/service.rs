//! The application as one connection's hyper service: it tells the watchdog when a request
//! starts, how its body progresses and when the answer is out, and makes sure an answer
//! given before the body was read does not leave the client on a connection hyper is
//! about to close: a small body already on its way is drained, otherwise the answer says
//! `Connection: close`.

use std::convert::Infallible;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, Request, Response};
use axum::Router;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use tower::ServiceExt;

use super::watch::ConnectionWatch;

/// Most body bytes drained after an early answer to keep the connection alive.
pub const MAX_DRAIN_BYTES: u64 = 64 * 1024;
/// Times the drain lets hyper's connection task run to deliver bytes already received.
const DRAIN_YIELDS: usize = 4;

/// The router serving one connection.
#[derive(Clone)]
pub(super) struct ConnectionService {
    app: Router,
    watch: Arc<ConnectionWatch>,
}

impl ConnectionService {
    /// Serves `app`, reporting to `watch`.
    pub(super) fn new(app: Router, watch: Arc<ConnectionWatch>) -> Self {
        Self { app, watch }
    }
}

impl hyper::service::Service<Request<Incoming>> for ConnectionService {
    type Response = Response<WatchedResponse>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let (parts, incoming) = request.into_parts();
        let expects_continue = parts
            .headers
            .get(header::EXPECT)
            .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        let shared = Arc::new(SharedBody {
            incoming: Mutex::new(incoming),
            watch: self.watch.clone(),
            state: Mutex::new(BodyState::default()),
        });
        let ended = shared.with_incoming(|incoming| incoming.is_end_stream());
        self.watch.request_started(!ended);
        shared.lock_state().ended = ended;
        let request = Request::from_parts(parts, Body::new(WatchedBody(shared.clone())));
        let app = self.app.clone();
        let watch = self.watch.clone();
        Box::pin(async move {
            let Ok(mut response) = app.oneshot(request).await;
            watch.body_done();
            let ended = shared.lock_state().ended;
            // Draining with a client waiting for `100 Continue` would invite the body.
            let reusable = ended || (!expects_continue && drain(&shared).await);
            if !reusable {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok(response.map(|body| WatchedResponse { body, watch }))
        })
    }
}

/// How far the request body has been read.
#[derive(Debug, Default)]
struct BodyState {
    /// The body's end was reached: hyper can keep the connection alive.
    ended: bool,
    /// Bytes read so far.
    read: u64,
}

/// The request body, shared between the application (which reads it) and the service
/// (which drains what the application left).
struct SharedBody {
    incoming: Mutex<Incoming>,
    watch: Arc<ConnectionWatch>,
    state: Mutex<BodyState>,
}

impl SharedBody {
    fn with_incoming<T>(&self, use_it: impl FnOnce(&mut Incoming) -> T) -> T {
        use_it(&mut self.incoming.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, BodyState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn poll_frame(&self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let (polled, at_end) = self.with_incoming(|incoming| {
            let polled = Pin::new(&mut *incoming).poll_frame(cx);
            (polled, incoming.is_end_stream())
        });
        let mut state = self.lock_state();
        match &polled {
            Poll::Pending => self.watch.body_awaited(),
            Poll::Ready(Some(Ok(frame))) => {
                let bytes = frame.data_ref().map_or(0, |data| data.len() as u64);
                state.read += bytes;
                self.watch.body_progress(bytes);
            }
            Poll::Ready(_) => {}
        }
        if at_end || matches!(polled, Poll::Ready(None)) {
            state.ended = true;
            self.watch.body_done();
        }
        polled
    }
}

/// Reads what is left of a body the application did not finish, while it is small and
/// already arriving; true when the end was reached.
async fn drain(shared: &SharedBody) -> bool {
    let remaining = shared.with_incoming(|incoming| incoming.size_hint().upper());
    if remaining.is_none_or(|left| left > MAX_DRAIN_BYTES) {
        return false;
    }
    let started_at = shared.lock_state().read;
    let mut idle_yields = 0;
    loop {
        let polled = poll_fn(|cx| Poll::Ready(shared.poll_frame(cx))).await;
        match polled {
            Poll::Ready(Some(Ok(_))) => {
                if shared.lock_state().read - started_at > MAX_DRAIN_BYTES {
                    return false;
                }
                idle_yields = 0;
            }
            Poll::Ready(None) => return true,
            Poll::Ready(Some(Err(_))) => return false,
            Poll::Pending if idle_yields < DRAIN_YIELDS => {
                idle_yields += 1;
                tokio::task::yield_now().await;
            }
            Poll::Pending => return false,
        }
        if shared.lock_state().ended {
            return true;
        }
    }
}

/// The request body as the application sees it.
struct WatchedBody(Arc<SharedBody>);

impl HttpBody for WatchedBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        self.0.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.0.lock_state().ended
    }

    fn size_hint(&self) -> SizeHint {
        self.0.with_incoming(|incoming| incoming.size_hint())
    }
}

/// The answer's body; hyper drops it once it has taken all of it, which ends the request
/// for the watchdog.
pub(super) struct WatchedResponse {
    body: Body,
    watch: Arc<ConnectionWatch>,
}

impl Drop for WatchedResponse {
    fn drop(&mut self) {
        self.watch.response_finished();
    }
}

impl HttpBody for WatchedResponse {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
