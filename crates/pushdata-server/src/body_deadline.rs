//! A deadline on the whole of a request body: a client that trickles its body, a byte
//! now and then inside the idle timeout, is cut off once the body has taken longer than
//! the deadline since the server started reading it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use http_body::{Frame, SizeHint};
use tokio::time::Sleep;

/// The body did not arrive whole within the deadline.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {} s", .0.as_secs())]
pub(crate) struct BodyDeadlineElapsed(pub(crate) Duration);

/// A request body that fails with [`BodyDeadlineElapsed`] once `limit` has passed since
/// its first read.
struct DeadlineBody {
    inner: Body,
    limit: Duration,
    /// Started at the first read (a request waiting for a decode slot is not reading).
    sleep: Option<Pin<Box<Sleep>>>,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        let limit = this.limit;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(BodyDeadlineElapsed(limit))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// `req` with its body under a deadline of `limit`.
pub(crate) fn with_deadline(req: Request, limit: Duration) -> Request {
    req.map(|inner| {
        Body::new(DeadlineBody {
            inner,
            limit,
            sleep: None,
        })
    })
}

/// The first error of type `E` in `e`'s source chain.
pub(crate) fn find_source<'e, E: std::error::Error + 'static>(
    e: &'e (dyn std::error::Error + 'static),
) -> Option<&'e E> {
    let mut src = Some(e);
    while let Some(err) = src {
        if let Some(found) = err.downcast_ref::<E>() {
            return Some(found);
        }
        src = err.source();
    }
    None
}

/// Whether a body read failed because the body stalled past the idle timeout or took
/// longer than the deadline.
pub(crate) fn is_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    find_source::<tower_http::timeout::TimeoutError>(e).is_some()
        || find_source::<BodyDeadlineElapsed>(e).is_some()
}
