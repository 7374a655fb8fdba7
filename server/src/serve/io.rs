//! The socket as hyper sees it: reads tell the watchdog a request has begun, and hyper's
//! own bodiless answer to a request it cannot parse (400, 414, 431) is given OpenAI's
//! error envelope as its body on the way out.
//!
//! hyper writes those answers itself (`content-length: 0`, no hook to change them), then
//! closes the connection; they are the only answers written while no request is in the
//! application's hands that have an empty body, so they are recognised by their bytes.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::watch::ConnectionWatch;
use crate::api_error::ApiError;

/// Longest head hyper writes for a parse error (about 110 bytes).
const MOST_AUTOMATIC_BYTES: usize = 512;

/// A connection's stream, watched and with hyper's parse-error answers rewritten.
pub(super) struct WatchedIo<S> {
    inner: S,
    watch: Arc<ConnectionWatch>,
    /// Rewritten bytes not yet written to `inner`; they replace what hyper asked to write.
    pending: Vec<u8>,
}

impl<S> WatchedIo<S> {
    /// Wraps `inner`, reporting to `watch`.
    pub(super) fn new(inner: S, watch: Arc<ConnectionWatch>) -> Self {
        Self {
            inner,
            watch,
            pending: Vec::new(),
        }
    }
}

impl<S: AsyncWrite + Unpin> WatchedIo<S> {
    /// Writes out `pending`; ready once it is empty.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            let written = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pending.drain(..written);
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WatchedIo<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = ready!(Pin::new(&mut this.inner).poll_read(cx, buf));
        if result.is_ok() && buf.filled().len() > before {
            this.watch.bytes_arrived();
        }
        Poll::Ready(result)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WatchedIo<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        if this.watch.between_requests() {
            if let Some(rewritten) = with_envelope(buf) {
                this.pending = rewritten;
                // The caller's bytes are accounted for; the rest goes out on flush.
                let _ = this.poll_pending(cx)?;
                return Poll::Ready(Ok(buf.len()));
            }
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        if this.watch.between_requests() {
            if let Some(first) = bufs.iter().find(|buf| !buf.is_empty()) {
                if with_envelope(first).is_some() {
                    return Pin::new(this).poll_write(cx, &first[..]);
                }
            }
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// The error hyper answered with, when `head` is exactly one of its bodiless automatic
/// answers (status line, headers with `content-length: 0`, blank line).
fn automatic_answer(head: &[u8]) -> Option<ApiError> {
    // hyper's answers are a status line, a date and a length: cheap checks first, since the
    // tail of every application answer is written between requests too.
    if head.len() > MOST_AUTOMATIC_BYTES || !head.starts_with(b"HTTP/1.1 4") {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?;
    let rest = text.strip_prefix("HTTP/1.1 ")?;
    if !text.ends_with("\r\n\r\n") || text.matches("\r\n\r\n").count() != 1 {
        return None;
    }
    let empty = text
        .split("\r\n")
        .any(|line| line.eq_ignore_ascii_case("content-length: 0"));
    if !empty {
        return None;
    }
    match rest.get(..4)? {
        "400 " => Some(ApiError::unparsable_request()),
        "414 " => Some(ApiError::uri_too_long()),
        "431 " => Some(ApiError::headers_too_large()),
        _ => None,
    }
}

/// `head` with the envelope of [`automatic_answer`] as its body, or `None` when it is
/// not such an answer.
fn with_envelope(head: &[u8]) -> Option<Vec<u8>> {
    let error = automatic_answer(head)?;
    let (body, content_type) = error.body();
    let text = std::str::from_utf8(head).ok()?;
    let mut out = Vec::with_capacity(head.len() + body.len() + 64);
    for line in text.trim_end_matches("\r\n").split("\r\n") {
        if line.eq_ignore_ascii_case("content-length: 0") {
            out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
            out.extend_from_slice(format!("content-type: {content_type}\r\n").as_bytes());
        } else {
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&body);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyper_answers_get_an_envelope_and_the_application_ones_are_left_alone() {
        let head =
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let rewritten = String::from_utf8(with_envelope(head).unwrap()).unwrap();
        let (new_head, body) = rewritten.split_once("\r\n\r\n").unwrap();
        assert!(new_head.starts_with("HTTP/1.1 431 "));
        assert!(new_head.contains(&format!("content-length: {}", body.len())));
        assert!(new_head.contains("content-type: application/json"));
        assert!(new_head.ends_with("date: x"));
        let envelope: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(envelope["error"]["type"], "invalid_request_error");

        for not_hyper in [
            &b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n",
        ] {
            assert_eq!(with_envelope(not_hyper), None);
        }
    }
}
