//! Answers the HTTP stack makes on its own, in the API's one error shape `{"error": ...}`.
//!
//! Model: one middleware around the whole router. On the way in it bounds a request's URI
//! ([`URI_BYTES_MAX`], 414): no route takes more than a path with two 64-hex ids and a short
//! query. On the way out it rewrites any 4xx or 5xx answer whose body is not JSON, which is
//! what axum makes for a method a route does not take (405, with an empty body), a body over
//! a route's limit (413) or a body an extractor refused, as an [`ApiError`]: the status and the
//! headers stay (axum adds `Allow` to a 405 outside this layer), the text becomes the `error`
//! field (the status's reason when the text is empty; a 405 names the path and the method).
//! Handlers answer JSON already and pass through untouched.
//!
//! Not covered: hyper refuses, before any service runs, a request head it cannot buffer (431)
//! and a URI over 65,534 bytes (414); those answers have no body and close the connection.

use super::ApiError;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Longest request URI (path and query) the API reads: its longest route is under 200 bytes.
pub const URI_BYTES_MAX: usize = 8 * 1024;

/// How much of a non-JSON error body is kept as the message.
const REJECTION_TEXT_BYTES_MAX: usize = 4 * 1024;

/// The middleware: see the module comment.
pub(super) async fn json_errors(request: Request, next: Next) -> Response {
    let uri_bytes = request.uri().path_and_query().map_or(0, |path| path.as_str().len());
    if uri_bytes > URI_BYTES_MAX {
        return ApiError {
            status: StatusCode::URI_TOO_LONG,
            message: format!("the request URI is {uri_bytes} bytes; at most {URI_BYTES_MAX}"),
        }
        .into_response();
    }
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    if response.status() == StatusCode::METHOD_NOT_ALLOWED && !is_json(response.headers()) {
        // axum adds `Allow` further out, after this layer; the message names what was asked.
        let message =
            format!("{path} does not take {method} (its `Allow` header lists what it takes)");
        return with_json_body(response, message);
    }
    as_json_error(response).await
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"))
}

/// `response` itself unless it is an error without a JSON body; then the same status and
/// headers with `{"error": <its text>}`.
async fn as_json_error(response: Response) -> Response {
    let status = response.status();
    let error = status.is_client_error() || status.is_server_error();
    if !error || is_json(response.headers()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, REJECTION_TEXT_BYTES_MAX)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string())
        .unwrap_or_default();
    let reason = status.canonical_reason().unwrap_or("error").to_ascii_lowercase();
    let message = if text.is_empty() { reason } else { text };
    with_json_body(Response::from_parts(parts, axum::body::Body::empty()), message)
}

/// `response`'s status and headers with the body `{"error": message}`.
fn with_json_body(response: Response, message: String) -> Response {
    let (mut parts, _) = response.into_parts();
    let (json_parts, json_body) =
        ApiError { status: parts.status, message }.into_response().into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in &json_parts.headers {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, json_body)
}
