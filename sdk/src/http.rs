//! A minimal blocking HTTP/1.1 client over `std::net::TcpStream`, enough for the node's JSON
//! API on loopback or a LAN: one request per connection (`Connection: close`), bounded in time
//! and size. A full HTTP stack would add TLS and a second async runtime for nothing here; put a
//! TLS-terminating proxy in front of a node reached over the internet.
//! Privileged routes (`/control/*`, transfers the node signs, consortium replica reads) take the
//! node's API token as `Authorization: Bearer`; the `*_authorized` functions send it. Bodies and
//! answers are the node's own [`vein_node::api_types`]: an answer that does not parse into the
//! type asked for is an error naming the route, not a `null` read further on.
//! [`crate::Client`] wraps these with the node's address and token.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use vein_node::api_types::ErrorBody;

/// Responses larger than this are refused (the API's biggest answer is a few hundred KiB).
const RESPONSE_BYTES_MAX: u64 = 16 << 20;

/// Why a request to a node's API got no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The TCP connection was refused or timed out: the node is down, or not listening yet.
    #[error("cannot reach {addr}: {source}")]
    Connect {
        /// The node's API address.
        addr: SocketAddr,
        /// The socket's error (`TimedOut` after the request's timeout).
        #[source]
        source: std::io::Error,
    },
    /// Sending the request or reading the answer failed after connecting; a read past the
    /// timeout is `WouldBlock` ("os error 11").
    #[error("I/O with {addr}: {source}")]
    Io {
        /// The node's API address.
        addr: SocketAddr,
        /// The socket's error.
        #[source]
        source: std::io::Error,
    },
    /// The answer has no status line or header end, or a broken chunked body.
    #[error("malformed HTTP response from {addr}")]
    Malformed {
        /// The node's API address.
        addr: SocketAddr,
    },
    /// The node answered a status outside 200..300.
    #[error("{addr}{path} answered {status}: {body}")]
    Status {
        /// The node's API address.
        addr: SocketAddr,
        /// The route asked, e.g. `/unit/ID`.
        path: String,
        /// The HTTP status code.
        status: u16,
        /// The `error` field of the node's JSON error body, or the raw body if it has none.
        body: String,
    },
    /// A 2xx answer that does not parse as the type the caller asked for.
    #[error("{addr}{path} answered something that is not the expected JSON ({reason}): {body}")]
    NotJson {
        /// The node's API address.
        addr: SocketAddr,
        /// The route asked.
        path: String,
        /// The JSON parser's complaint.
        reason: String,
        /// The answer's body as received.
        body: String,
    },
    /// The request body could not be serialized to JSON; nothing was sent.
    #[error("a request body for {path} does not serialize: {reason}")]
    Body {
        /// The route it was meant for.
        path: String,
        /// The serializer's complaint.
        reason: String,
    },
    /// The token holds a byte outside printable ASCII (a line break would inject headers);
    /// nothing was sent.
    #[error("the API token holds characters an HTTP header cannot carry")]
    BadToken,
}

/// Send one request and return `(status, body)`.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
    timeout: Duration,
) -> Result<(u16, String), HttpError> {
    request_authorized(addr, method, path, body, timeout, None)
}

/// [`request`] with `Authorization: Bearer <token>` when a token is given.
pub fn request_authorized(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
    timeout: Duration,
    token: Option<&str>,
) -> Result<(u16, String), HttpError> {
    let io = |source| HttpError::Io { addr, source };
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|source| HttpError::Connect { addr, source })?;
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    let payload = body.unwrap_or_default();
    // A token holds printable ASCII (the testnet's is hex); a line break in it would end the
    // header early and smuggle the rest in as headers of its own.
    let authorization = match token {
        Some(token) if token.bytes().all(|byte| byte.is_ascii_graphic()) => {
            format!("Authorization: Bearer {token}\r\n")
        }
        Some(_) => return Err(HttpError::BadToken),
        None => String::new(),
    };
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{authorization}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        payload.len()
    );
    stream.write_all(head.as_bytes()).map_err(io)?;
    stream.write_all(payload.as_bytes()).map_err(io)?;
    let mut raw = Vec::new();
    stream.take(RESPONSE_BYTES_MAX).read_to_end(&mut raw).map_err(io)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or(HttpError::Malformed { addr })?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or(HttpError::Malformed { addr })?;
    let chunked = head.lines().any(|line| {
        let line = line.to_ascii_lowercase();
        line.starts_with("transfer-encoding:") && line.contains("chunked")
    });
    let body =
        if chunked { dechunk(body).ok_or(HttpError::Malformed { addr })? } else { body.into() };
    Ok((status, body))
}

/// Decode a chunked body (hyper uses it for bodies of unknown length).
fn dechunk(mut body: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n")?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.push_str(rest.get(..size)?);
        body = rest.get(size..)?.strip_prefix("\r\n")?;
    }
}

/// How long [`get`] and [`post`] wait for a node to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);

fn json<B: Serialize, R: DeserializeOwned>(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&B>,
    token: Option<&str>,
) -> Result<R, HttpError> {
    let payload = body
        .map(serde_json::to_string)
        .transpose()
        .map_err(|error| HttpError::Body { path: path.into(), reason: error.to_string() })?;
    let (status, text) =
        request_authorized(addr, method, path, payload.as_deref(), TIMEOUT, token)?;
    if !(200..300).contains(&status) {
        let body = serde_json::from_str::<ErrorBody>(&text).map(|body| body.error).unwrap_or(text);
        return Err(HttpError::Status { addr, path: path.into(), status, body });
    }
    serde_json::from_str(&text).map_err(|error| HttpError::NotJson {
        addr,
        path: path.into(),
        reason: error.to_string(),
        body: text,
    })
}

/// `GET path`, its answer parsed as `R`.
pub fn get<R: DeserializeOwned>(addr: SocketAddr, path: &str) -> Result<R, HttpError> {
    json::<(), R>(addr, "GET", path, None, None)
}

/// A GET of a privileged route (a consortium replica's verification): with the API token.
pub fn get_authorized<R: DeserializeOwned>(
    addr: SocketAddr,
    path: &str,
    token: Option<&str>,
) -> Result<R, HttpError> {
    json::<(), R>(addr, "GET", path, None, token)
}

/// `POST path` with `body`, its answer parsed as `R`.
pub fn post<B: Serialize, R: DeserializeOwned>(
    addr: SocketAddr,
    path: &str,
    body: &B,
) -> Result<R, HttpError> {
    json(addr, "POST", path, Some(body), None)
}

/// A POST to a privileged route: with the API token (`None` sends none, and the node answers
/// 401 with how to pass one).
pub fn post_authorized<B: Serialize, R: DeserializeOwned>(
    addr: SocketAddr,
    path: &str,
    body: &B,
    token: Option<&str>,
) -> Result<R, HttpError> {
    json(addr, "POST", path, Some(body), token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_are_decoded() {
        assert_eq!(dechunk("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").as_deref(), Some("abcde"));
        assert_eq!(dechunk("zz\r\n"), None);
    }
}
