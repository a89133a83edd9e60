//! vein-sdk: a client library for a vein node's HTTP API.
//!
//! Model: a [`Client`] is one node's API address plus, for privileged routes, its API token.
//! Requests and answers are the node's own types ([`vein_node::api_types`]), so a renamed field
//! is a compile error here rather than a `null` at run time; the OpenAPI document
//! (`GET /openapi.json`, docs/api.md) is generated from the same types. Transactions are built
//! and signed on the client with the node's own code ([`vein_node::core`]: transaction bodies,
//! storage encoding, consortium sealing) and posted pre-signed to `POST /tx`, which is open:
//! the signature authorises them. The transport is a small blocking HTTP/1.1 client
//! ([`http`]): no async runtime, one connection per request, bounded in time and size.
//!
//! - [`client`]: status, balances, signing and submitting, transfers, token transfers, waiting
//!   until a transaction is final.
//! - [`storage`]: store a file (encrypt, erasure-code, place, pay, deliver shards) and read it
//!   back.
//! - [`consortium`]: create a consortium, change permissions, write sealed rows, query a
//!   member's replica.
//! - [`eth`]: the Ethereum JSON-RPC calls a contract deployment needs.
//!
//! `sdk/examples/` shows each (docs/api.md, "Client library").

#![warn(missing_docs)]

pub mod client;
pub mod consortium;
mod error;
pub mod eth;
pub mod http;
pub mod storage;

pub use client::{Client, Finality, Submitted, load_key, parents_of, parse_hash};
pub use error::SdkError;
pub use vein_node;
