//! Who may use the API's privileged routes. Reads are open to anyone (a public node answers
//! them anyway), and so is a transaction its sender already signed. What is not open is
//! everything that acts with the node's own authority: fault injection (`/control/*`, which
//! changes how the node talks to its peers) and the faucet forms of `POST /tx` and `POST /txs`
//! (the node signs and spends its own funds). Those need `Authorization: Bearer <token>`, the
//! token the operator gave `vein-node run` in a file (`--api-token-file`, so it never shows in
//! `ps`) or in the environment (`VEIN_API_TOKEN`).
//!
//! A node started without a token refuses every privileged route (401) instead of opening
//! them: forgetting the token must not hand the node's funds to whoever reaches its port.
//!
//! The presented token is compared in constant time: both sides are hashed (BLAKE3) and the
//! digests are XOR-folded over all 32 bytes with no early exit, so neither the position of the
//! first wrong byte nor the token's length shows in the answer time.

use super::error::ApiError;
use axum::http::{HeaderMap, StatusCode, header};
use std::path::Path;

/// Shortest token accepted: 16 bytes of entropy as hex. `vein-testnet up` makes 32 bytes.
pub const TOKEN_CHARS_MIN: usize = 32;
/// The environment variable `vein-node run` reads the token from when no file is given.
pub const TOKEN_ENV: &str = "VEIN_API_TOKEN";

/// Why the operator's token could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum ApiTokenError {
    /// The token file could not be read.
    #[error("API token file {path}: {source}")]
    Read {
        /// The `--api-token-file` path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The token is too short or holds characters an HTTP header cannot carry.
    #[error("API token from {origin}: {reason}")]
    Invalid {
        /// Where the token came from: the file's path or the environment variable.
        origin: String,
        /// The rule it breaks, with a hint on how to make a valid one.
        reason: String,
    },
}

/// The operator's secret, kept as its BLAKE3 digest (all the comparison needs).
#[derive(Clone)]
pub struct ApiToken {
    digest: [u8; 32],
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("ApiToken(<redacted>)")
    }
}

impl ApiToken {
    /// A token from text (`origin` names where it came from, for errors). Surrounding
    /// whitespace (a file's final newline) is ignored; inside, only visible ASCII is allowed,
    /// since the token travels in an HTTP header.
    pub fn from_text(text: &str, origin: &str) -> Result<ApiToken, ApiTokenError> {
        let invalid =
            |reason: String| ApiTokenError::Invalid { origin: origin.to_string(), reason };
        let token = text.trim();
        if token.len() < TOKEN_CHARS_MIN {
            return Err(invalid(format!(
                "{} characters; at least {TOKEN_CHARS_MIN} are needed (e.g. 32 random bytes as \
                 hex: `head -c 32 /dev/urandom | xxd -p -c 64`)",
                token.len()
            )));
        }
        if !token.bytes().all(|byte| byte.is_ascii_graphic()) {
            return Err(invalid("only visible ASCII characters (no spaces) are allowed".into()));
        }
        Ok(ApiToken { digest: *blake3::hash(token.as_bytes()).as_bytes() })
    }

    /// The token in a file (`vein-node run --api-token-file PATH`).
    pub fn load(path: &Path) -> Result<ApiToken, ApiTokenError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ApiTokenError::Read { path: path.display().to_string(), source })?;
        ApiToken::from_text(&text, &path.display().to_string())
    }

    /// Whether `presented` is this token, in time independent of where they differ.
    pub fn matches(&self, presented: &[u8]) -> bool {
        let presented = blake3::hash(presented);
        let difference = self
            .digest
            .iter()
            .zip(presented.as_bytes())
            .fold(0u8, |folded, (left, right)| folded | (left ^ right));
        std::hint::black_box(difference) == 0
    }
}

/// The guard in front of the privileged routes.
#[derive(Clone, Debug)]
pub struct ApiAuth {
    token: Option<ApiToken>,
}

const HOW_TO_PASS: &str = "send `Authorization: Bearer <token>` with the token from the file \
    given to `vein-node run --api-token-file` (a testnet keeps it in <dir>/api-token)";

impl ApiAuth {
    /// A guard that admits holders of `token`; `None` refuses every privileged request.
    pub fn new(token: Option<ApiToken>) -> ApiAuth {
        ApiAuth { token }
    }

    /// Whether privileged routes can be used at all.
    pub fn enabled(&self) -> bool {
        self.token.is_some()
    }

    /// `Ok` when the request carries the configured token; else 401 (no token configured, none
    /// sent, or not a bearer token) or 403 (a bearer token that is not this node's).
    pub fn authorize(&self, headers: &HeaderMap, what: &str) -> Result<(), ApiError> {
        let unauthorized = |message: String| ApiError { status: StatusCode::UNAUTHORIZED, message };
        let Some(token) = &self.token else {
            return Err(unauthorized(format!(
                "{what} is disabled: this node was started without --api-token-file (or \
                 {TOKEN_ENV}); restart it with a token to use privileged routes"
            )));
        };
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(unauthorized(format!("{what} needs the API token: {HOW_TO_PASS}")));
        };
        let presented = value
            .as_bytes()
            .strip_prefix(b"Bearer ")
            .ok_or_else(|| unauthorized(format!("{what}: not a bearer token; {HOW_TO_PASS}")))?;
        if !token.matches(presented.trim_ascii()) {
            return Err(ApiError {
                status: StatusCode::FORBIDDEN,
                message: format!("{what}: wrong API token; {HOW_TO_PASS}"),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    fn with_header(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn only_the_configured_bearer_token_passes() {
        let auth = ApiAuth::new(Some(ApiToken::from_text(&format!("{TOKEN}\n"), "test").unwrap()));
        assert!(auth.authorize(&with_header(&format!("Bearer {TOKEN}")), "x").is_ok());
        let status = |headers: &HeaderMap| auth.authorize(headers, "x").unwrap_err().status;
        assert_eq!(status(&HeaderMap::new()), StatusCode::UNAUTHORIZED);
        assert_eq!(status(&with_header(TOKEN)), StatusCode::UNAUTHORIZED);
        assert_eq!(status(&with_header(&format!("Basic {TOKEN}"))), StatusCode::UNAUTHORIZED);
        assert_eq!(status(&with_header(&format!("Bearer {TOKEN}0"))), StatusCode::FORBIDDEN);
        assert_eq!(status(&with_header(&format!("Bearer {}", &TOKEN[1..]))), StatusCode::FORBIDDEN);
    }

    #[test]
    fn without_a_token_nothing_privileged_passes() {
        let auth = ApiAuth::new(None);
        let error = auth.authorize(&with_header(&format!("Bearer {TOKEN}")), "x").unwrap_err();
        assert_eq!(error.status, StatusCode::UNAUTHORIZED);
        assert!(error.message.contains("--api-token-file"), "{}", error.message);
    }

    #[test]
    fn short_or_spaced_tokens_are_refused() {
        assert!(ApiToken::from_text("short", "test").is_err());
        assert!(ApiToken::from_text(&format!("{TOKEN} {TOKEN}"), "test").is_err());
        assert!(ApiToken::load(Path::new("/nonexistent/token")).is_err());
    }
}
