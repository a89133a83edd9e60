//! Business token routes (docs/tokens.md), all public reads of the head's ledger:
//! `GET /tokens?limit=N`, `GET /token/{id}`, `GET /token/{id}/balance/{account}`. Token
//! transactions are submitted like any other, pre-signed through `POST /tx`.

use super::{ApiError, ApiResult, ApiState, inspect, list_limit, parse_account, parse_hash};
use crate::api_types::{TokenBalance, TokenList, TokenMinterView, TokenSummary};
use crate::core::ledger::Ledger;
use crate::core::token::{Minter, SupplyRule, Token, TokenId};
use axum::Json;
use axum::extract::{Path, RawQuery, State};

fn summary(ledger: &Ledger, token: &Token, height: u64) -> TokenSummary {
    let (minter, cap) = match token.supply {
        SupplyRule::Fixed => (None, None),
        SupplyRule::Mintable { minter, cap } => {
            let minter = match minter {
                Minter::Issuer => TokenMinterView::Issuer,
                Minter::Consortium(id) => TokenMinterView::Consortium(id.to_string()),
                Minter::Peg { source_chain, source_token } => TokenMinterView::Peg {
                    source_chain: source_chain.to_string(),
                    source_token: source_token.to_string(),
                },
            };
            (Some(minter), cap)
        }
    };
    TokenSummary {
        id: token.id.to_string(),
        name: token.name.clone(),
        symbol: token.symbol.clone(),
        decimals: token.decimals,
        issuer: token.issuer.to_hex(),
        mintable: minter.is_some(),
        minter,
        cap,
        issued: token.issued,
        minted: token.minted,
        burned: token.burned,
        total_supply: token.total_supply(),
        holders: ledger.tokens().holders(&token.id).count(),
        erc20_address: format!("0x{}", hex::encode(token.id.erc20_address())),
        height,
    }
}

fn parse_token(text: &str) -> Result<TokenId, ApiError> {
    parse_hash(text).map(TokenId)
}

/// `GET /tokens?limit=N`
pub(super) async fn list(
    State(state): State<ApiState>,
    RawQuery(query): RawQuery,
) -> ApiResult<TokenList> {
    let limit = list_limit(query.as_deref())?;
    inspect(&state, move |node| {
        let ledger = node.chain().ledger();
        let height = node.chain().height();
        let tokens = ledger.tokens();
        Json(TokenList {
            tokens: tokens.iter().take(limit).map(|t| summary(ledger, t, height)).collect(),
            total: tokens.len(),
        })
    })
    .await
}

/// `GET /token/{id}`
pub(super) async fn token(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<TokenSummary> {
    let id = parse_token(&id)?;
    let found = inspect(&state, move |node| {
        let ledger = node.chain().ledger();
        let height = node.chain().height();
        ledger.tokens().get(&id).map(|token| summary(ledger, token, height))
    })
    .await?;
    found.map(Json).ok_or_else(|| ApiError::not_found(format!("token {id} unknown")))
}

/// `GET /token/{id}/balance/{account}`: 404 for an unknown token, 0 for a non-holder.
pub(super) async fn balance(
    State(state): State<ApiState>,
    Path((id, account)): Path<(String, String)>,
) -> ApiResult<TokenBalance> {
    let id = parse_token(&id)?;
    let account = parse_account(&account)?;
    let found = inspect(&state, move |node| {
        let ledger = node.chain().ledger();
        ledger.tokens().get(&id)?;
        Some(TokenBalance {
            token: id.to_string(),
            account: account.to_hex(),
            balance: ledger.tokens().balance(&id, &account),
            height: node.chain().height(),
        })
    })
    .await?;
    found.map(Json).ok_or_else(|| ApiError::not_found(format!("token {id} unknown")))
}
