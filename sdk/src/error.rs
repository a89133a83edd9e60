//! Why an SDK call failed: one enum, each variant naming what was asked (the route, the
//! transaction, the JSON-RPC method) and what the node said.

use crate::http::HttpError;

/// An SDK call's failure.
#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    /// The node could not be reached, or answered a status outside 2xx (the route, the status
    /// and the `error` of the node's JSON body are in the [`HttpError`]), or an answer that is
    /// not the route's type.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// A 2xx answer whose content is unusable: an id that is not 64 hex, a contract that does
    /// not decode.
    #[error("{route} answered {what} that is not usable: {reason}")]
    BadAnswer {
        /// The route asked, e.g. `/status`.
        route: String,
        /// The field or object, e.g. `an anchor`.
        what: &'static str,
        /// Why it is unusable.
        reason: String,
    },
    /// A transaction that could not be encoded or signed; nothing was sent.
    #[error("building the {what} transaction: {reason}")]
    Build {
        /// What it was meant to do, e.g. `transfer`.
        what: &'static str,
        /// The encoder's or the core's complaint.
        reason: String,
    },
    /// The transaction is final but the checkpoint ruled it without effect (a used nonce,
    /// missing funds, a write the consortium's rules refuse).
    #[error("transaction {id} is final but was ignored by the ledger (no effect)")]
    FinalIgnored {
        /// The unit id (64 hex).
        id: String,
    },
    /// The transaction was not final within the wait.
    #[error("transaction {id} was not final within {seconds} s (is the net finalising?)")]
    NotFinal {
        /// The unit id (64 hex).
        id: String,
        /// The wait, in whole seconds.
        seconds: u64,
    },
    /// Something awaited did not happen within the wait.
    #[error("waited {seconds} s for {what}")]
    Timeout {
        /// What was awaited, e.g. `height 12 (the node is at 9)`.
        what: String,
        /// The wait, in whole seconds.
        seconds: u64,
    },
    /// A stored file could not be placed, delivered or recovered.
    #[error("storage of file {file_id}: {reason}")]
    Storage {
        /// The file id (64 hex), or `-` before it is known.
        file_id: String,
        /// What went wrong.
        reason: String,
    },
    /// A JSON-RPC method answered an error object.
    #[error("JSON-RPC {method} failed with code {code}: {message}")]
    Rpc {
        /// The method called, e.g. `eth_sendRawTransaction`.
        method: String,
        /// The JSON-RPC error code (-32000 for a refused transaction).
        code: i64,
        /// The node's message.
        message: String,
    },
    /// A key file that is missing or not 64 hex characters.
    #[error("key file {path}: {reason}")]
    Key {
        /// The path given.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The operating system's random source failed (owner keys, data keys, salts).
    #[error("the operating system's random source failed: {reason}")]
    Random {
        /// The error it gave.
        reason: String,
    },
}

/// Fresh random bytes from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], SdkError> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes)
        .map_err(|error| SdkError::Random { reason: error.to_string() })?;
    Ok(bytes)
}
