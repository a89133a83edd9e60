//! `GET /search?q=TERM`: what a term names on this node, so the explorer's search box takes any
//! id. The term's shape picks the candidates: 64 hex digits may be a unit, a checkpoint, a
//! token, a consortium, a learning task or an account (all 32-byte ids; each table is asked);
//! `0x` and 40 hex digits is an EVM address (a token's ERC-20 address, a contract, or the
//! native account behind it); `0x` and 64 hex digits is an Ethereum transaction hash. Anything
//! else names nothing (an empty list, not an error: the box accepts what people type).

use super::evm_receipts::address_hex;
use crate::api::{ApiError, ApiResult, ApiState, inspect};
use crate::api_types::{SearchKind, SearchMatch, SearchResults};
use crate::core::crypto::AccountId;
use crate::core::evm::{Address, B256, account_of};
use crate::core::hash::Hash;
use crate::core::node::Node;
use crate::core::token::{TokenId, id_prefix_of};
use axum::Json;
use axum::extract::{RawQuery, State};
use revm::primitives::KECCAK_EMPTY;

/// Longest term looked at, in bytes (an address with `0x` is 66).
const TERM_BYTES_MAX: usize = 128;

/// The `q` parameter, percent-decoding only what a hex term or an address can hold.
fn term(query: Option<&str>) -> Result<String, ApiError> {
    let value = query
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("q="))
        .ok_or_else(|| ApiError::bad_request("expected ?q=TERM"))?;
    if value.len() > TERM_BYTES_MAX {
        return Err(ApiError::bad_request(format!("q: at most {TERM_BYTES_MAX} bytes")));
    }
    Ok(value.replace("%20", " ").replace('+', " ").trim().to_ascii_lowercase())
}

fn hex32(text: &str) -> Option<[u8; 32]> {
    hex::decode(text).ok()?.try_into().ok()
}

fn matches_of_id(node: &Node, bytes: [u8; 32]) -> Vec<SearchMatch> {
    let id = Hash(bytes);
    let chain = node.chain();
    let ledger = chain.ledger();
    let dag = node.dag();
    let found = [
        (SearchKind::Unit, dag.contains(&id) || dag.pruned_height(&id).is_some()),
        (SearchKind::Checkpoint, chain.header(&id).is_some()),
        (SearchKind::Account, ledger.account(&AccountId(bytes)).is_some()),
        (SearchKind::Token, ledger.tokens().get(&TokenId(id)).is_some()),
        (SearchKind::Consortium, ledger.consortia().get(&id).is_some()),
        (SearchKind::LearningTask, ledger.fl().get(&id).is_some()),
    ];
    found
        .into_iter()
        .filter(|(_, found)| *found)
        .map(|(kind, _)| SearchMatch { kind, id: id.to_string() })
        .collect()
}

fn matches_of_address(node: &Node, address: Address) -> Vec<SearchMatch> {
    let ledger = node.chain().ledger();
    let mut matches = Vec::new();
    let bytes: [u8; 20] = address.into_array();
    if let Some(token) = id_prefix_of(&bytes).and_then(|p| ledger.tokens().by_address_prefix(&p)) {
        matches.push(SearchMatch { kind: SearchKind::Token, id: token.id.to_string() });
    }
    let account = account_of(&address);
    if ledger.account(&account).is_some() {
        matches.push(SearchMatch { kind: SearchKind::Account, id: account.to_hex() });
    }
    if ledger.evm().account(&address).is_some_and(|a| a.code_hash != KECCAK_EMPTY) {
        matches.push(SearchMatch { kind: SearchKind::Contract, id: address_hex(&address) });
    }
    matches
}

fn matches_of(node: &Node, term: &str) -> Vec<SearchMatch> {
    if let Some(bytes) = hex32(term) {
        return matches_of_id(node, bytes);
    }
    let Some(rest) = term.strip_prefix("0x") else { return Vec::new() };
    if let Ok(bytes) = <[u8; 20]>::try_from(hex::decode(rest).unwrap_or_default()) {
        return matches_of_address(node, Address::from(bytes));
    }
    match hex32(rest) {
        Some(hash) if node.chain().ledger().evm().receipt(&B256::from(hash)).is_some() => {
            vec![SearchMatch { kind: SearchKind::EvmTx, id: format!("0x{rest}") }]
        }
        _ => Vec::new(),
    }
}

pub(crate) async fn search(
    State(state): State<ApiState>,
    RawQuery(query): RawQuery,
) -> ApiResult<SearchResults> {
    let query = term(query.as_deref())?;
    let matches = {
        let term = query.clone();
        inspect(&state, move |node| matches_of(node, &term)).await?
    };
    Ok(Json(SearchResults { query, matches }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_term_is_read_from_q_trimmed_and_lowercased() {
        assert_eq!(term(Some("q=AB%20")).unwrap(), "ab");
        assert_eq!(term(Some("x=1&q=0xAb")).unwrap(), "0xab");
        assert!(term(None).is_err());
        assert!(term(Some(&format!("q={}", "a".repeat(200)))).is_err());
    }
}
