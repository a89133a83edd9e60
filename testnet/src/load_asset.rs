//! What `vein-testnet load` moves: the native coin, or a business token (`load --token`,
//! docs/tokens.md "Token load"). The load's pacing, batching, funding and finality report are
//! the same for both; only the transaction kind signed for each transfer, the balance a load
//! account is funded to, and where that balance is read differ.

use crate::manifest::Manifest;
use crate::token::{self, balance_of, require_balance};
use crate::{TestnetError, account_state, bad_argument};
use std::net::SocketAddr;
use vein_node::core::crypto::AccountId;
use vein_node::core::token::{TokenId, TokenTx};
use vein_node::core::transaction::TxKind;

/// Token base units a load account is funded with (one million transfers of 1; the fees are
/// native and come from [`crate::LOAD_ACCOUNT_FUNDS`]).
pub const TOKEN_LOAD_FUNDS: u64 = 1_000_000;

/// Supply of the token `load --token new` issues: enough for [`crate::LOAD_ACCOUNTS_MAX`]
/// accounts funded a thousand times over, so runs never exhaust the faucet's share.
pub const NEW_TOKEN_SUPPLY: u64 = 1_000_000_000_000;

/// `load --token`'s value: issue a fresh token, or use one the faucet holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenChoice {
    /// `new`: the faucet issues a fixed-supply token of [`NEW_TOKEN_SUPPLY`] first.
    New,
    /// A token id (64 hex); the faucet must hold enough of it to fund the load accounts.
    Existing(TokenId),
}

impl std::str::FromStr for TokenChoice {
    type Err = String;

    fn from_str(text: &str) -> Result<TokenChoice, String> {
        if text == "new" {
            return Ok(TokenChoice::New);
        }
        TokenId::from_hex(text)
            .map(TokenChoice::Existing)
            .ok_or_else(|| format!("{text:?}: neither `new` nor a 64-hex token id"))
    }
}

/// What the transfers of one load run move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadAsset {
    /// Native transfers (`TxKind::Transfer`).
    Native,
    /// Token transfers of this token (`TxKind::Token(TokenTx::Transfer)`), fee native.
    Token(TokenId),
}

impl LoadAsset {
    /// The kind of a transaction moving `amount` of this asset to `to`.
    pub fn kind(&self, to: AccountId, amount: u64) -> TxKind {
        match self {
            LoadAsset::Native => TxKind::Transfer { to, amount },
            LoadAsset::Token(token) => {
                TxKind::Token(Box::new(TokenTx::Transfer { token: *token, to, amount }))
            }
        }
    }

    /// What a load account is funded with (and refunded below half of).
    pub fn funds(&self) -> u64 {
        match self {
            LoadAsset::Native => crate::LOAD_ACCOUNT_FUNDS,
            LoadAsset::Token(_) => TOKEN_LOAD_FUNDS,
        }
    }

    /// `account`'s balance of this asset on node `api`'s head ledger.
    pub fn balance(&self, api: SocketAddr, account: &AccountId) -> Result<u64, TestnetError> {
        match self {
            LoadAsset::Native => Ok(account_state(api, account)?.balance),
            LoadAsset::Token(token) => balance_of(api, token, account),
        }
    }

    /// Refuse before anything is sent when the faucet cannot fund `accounts` load accounts
    /// (an unknown token is refused here too). The native faucet is not checked: a net's
    /// faucet holds far more than any load needs.
    pub fn check_faucet(
        &self,
        manifest: &Manifest,
        api: SocketAddr,
        accounts: usize,
    ) -> Result<(), TestnetError> {
        let LoadAsset::Token(token) = self else { return Ok(()) };
        let faucet = crate::resolve_account(manifest, "faucet")?;
        require_balance(api, token, &faucet, self.funds().saturating_mul(accounts as u64))
    }

    /// The token id as the report shows it (`None` for native load).
    pub fn token_text(&self) -> Option<String> {
        match self {
            LoadAsset::Native => None,
            LoadAsset::Token(token) => Some(token.to_string()),
        }
    }
}

/// The asset `load` moves: native without `--token`; with it, the token given or one the
/// faucet issues now (waiting until the issue is final). Token load needs client-signed
/// transfers: node-signed ones (`--accounts 0`) are native only.
pub fn resolve(
    manifest: &Manifest,
    choice: Option<TokenChoice>,
    accounts: usize,
) -> Result<LoadAsset, TestnetError> {
    let token = match choice {
        None => return Ok(LoadAsset::Native),
        Some(_) if accounts == 0 => {
            return Err(bad_argument(
                "token",
                "needs client-signed transfers: use --accounts 2 or more (nodes sign only \
                 native transfers)",
            ));
        }
        Some(TokenChoice::Existing(token)) => token,
        Some(TokenChoice::New) => {
            eprintln!("issuing a load token from the faucet (final after about k + 1 checkpoints)");
            token::issue_load_token(manifest, NEW_TOKEN_SUPPLY)?
        }
    };
    Ok(LoadAsset::Token(token))
}

#[cfg(test)]
mod tests {
    use super::*;
    use vein_node::core::hash::Hash;

    #[test]
    fn token_choice_parses_new_and_ids_and_refuses_the_rest() {
        assert_eq!("new".parse::<TokenChoice>(), Ok(TokenChoice::New));
        let id = "ab".repeat(32);
        assert_eq!(
            id.parse::<TokenChoice>(),
            Ok(TokenChoice::Existing(TokenId::from_hex(&id).unwrap()))
        );
        assert!("ab".parse::<TokenChoice>().unwrap_err().contains("64-hex"));
        assert!("NEW".parse::<TokenChoice>().is_err());
    }

    #[test]
    fn each_asset_signs_its_own_kind() {
        let to = AccountId([7; 32]);
        assert_eq!(LoadAsset::Native.kind(to, 1), TxKind::Transfer { to, amount: 1 });
        let token = TokenId(Hash([3; 32]));
        let TxKind::Token(tx) = LoadAsset::Token(token).kind(to, 1) else {
            panic!("a token load signs token transactions")
        };
        assert_eq!(*tx, TokenTx::Transfer { token, to, amount: 1 });
        assert_eq!(LoadAsset::Token(token).funds(), TOKEN_LOAD_FUNDS);
    }
}
