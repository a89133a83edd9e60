//! `vein-testnet token ...`: business tokens on a running testnet (docs/tokens.md). Every
//! transaction is signed here with a node's or the faucet's key and posted pre-signed through
//! `POST /tx`; reads use `GET /tokens`, `/token/{id}` and `/token/{id}/balance/{account}`.
//! What the ledger would refuse for certain (an unknown token, a balance too small, a mint of a
//! fixed supply or by a non-minter) is refused here first, with a clear error, instead of
//! becoming a transaction that is ordered and then ignored.

use crate::manifest::Manifest;
use crate::{
    Sender, TestnetError, account_state, bad_argument, http, no_answer, node_entry, now_ms,
    parents_from, reachable, read_key, resolve_account, wait_final,
};
use clap::Subcommand;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use vein_node::api_types::{self, TokenBalance, TokenList, TokenMinterView, TokenSummary};
use vein_node::core::crypto::{AccountId, Keypair};
use vein_node::core::hash::Hash;
use vein_node::core::token::{IssueToken, Minter, SupplyRule, TokenId, TokenTx, token_id};
use vein_node::core::transaction::{TransactionBody, TxKind};

/// Why a token command refused before sending anything.
#[derive(Debug, thiserror::Error)]
pub enum TokenCliError {
    /// The node answered 404 for the token id: no such token on its chain.
    #[error("unknown token {token} (`vein-testnet token list` shows the tokens)")]
    UnknownToken {
        /// The token id (64 hex).
        token: String,
    },
    /// A transfer or burn of more than the sender holds.
    #[error("{account} holds {balance} of token {token}; {needed} needed")]
    InsufficientBalance {
        /// The token id (64 hex).
        token: String,
        /// The sender's account (64 hex).
        account: String,
        /// What it holds, in the token's base units.
        balance: u64,
        /// The amount asked, in the token's base units.
        needed: u64,
    },
    /// A mint of a token issued without `--mintable`.
    #[error("token {token} has a fixed supply: nothing can be minted")]
    FixedSupply {
        /// The token id (64 hex).
        token: String,
    },
    /// A mint signed by an account that is not the token's minter.
    #[error("token {token} is minted by {minter}, not by {account}")]
    NotMinter {
        /// The token id (64 hex).
        token: String,
        /// Who mints it, in words: its issuer's account, or a consortium's quorum.
        minter: String,
        /// The signer's account (64 hex).
        account: String,
    },
}

/// The `vein-testnet token` subcommands.
#[derive(Clone, Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a token: the whole initial supply goes to the issuer. Prints the token id.
    Issue {
        /// A name for people; the id, not the name, identifies the token.
        #[arg(long)]
        name: String,
        /// 1 to 11 capital letters or digits.
        #[arg(long)]
        symbol: String,
        /// Decimal places wallets show: 1 base unit is 10^-decimals tokens.
        #[arg(long, default_value_t = 0)]
        decimals: u8,
        /// Initial supply, in the token's smallest unit.
        #[arg(long)]
        supply: u64,
        /// Let the issuer mint more later (default: a fixed supply).
        #[arg(long)]
        mintable: bool,
        /// With --mintable: a consortium id whose quorum mints instead of the issuer.
        #[arg(long, requires = "mintable")]
        minter_consortium: Option<String>,
        /// With --mintable: the most ever issued plus minted.
        #[arg(long, requires = "mintable")]
        cap: Option<u64>,
        /// The issuer (--from), fee, node and waiting.
        #[command(flatten)]
        common: Common,
    },
    /// Move tokens to a node index, `faucet`, or a 64-hex account.
    Transfer {
        /// Token, recipient and amount.
        #[command(flatten)]
        movement: Movement,
        /// The sender (--from), fee, node and waiting.
        #[command(flatten)]
        common: Common,
    },
    /// Create tokens (the issuer of an issuer-minted token only).
    Mint {
        /// Token, recipient and amount.
        #[command(flatten)]
        movement: Movement,
        /// The minter (--from), fee, node and waiting.
        #[command(flatten)]
        common: Common,
    },
    /// Destroy some of the sender's tokens.
    Burn {
        /// The token id (64 hex, as `issue` printed it).
        #[arg(long)]
        token: String,
        /// Amount destroyed, in the token's base units; at least 1.
        #[arg(long)]
        amount: u64,
        /// The holder (--from), fee, node and waiting.
        #[command(flatten)]
        common: Common,
    },
    /// One account's balance of a token.
    Balance {
        /// The token id (64 hex).
        #[arg(long)]
        token: String,
        /// A node index, `faucet`, or a 64-hex account.
        #[arg(long)]
        account: String,
        /// The node asked.
        #[arg(long, default_value_t = 0)]
        via: usize,
    },
    /// Every token (or one, with --token), as JSON.
    List {
        /// The token id (64 hex) to show alone.
        #[arg(long)]
        token: Option<String>,
        /// The node asked.
        #[arg(long, default_value_t = 0)]
        via: usize,
    },
}

/// What a transfer or a mint moves, and where.
#[derive(Clone, Debug, clap::Args)]
pub struct Movement {
    /// The token id (64 hex, as `issue` printed it).
    #[arg(long)]
    pub token: String,
    /// A node index, `faucet`, or a 64-hex account.
    #[arg(long)]
    pub to: String,
    /// Amount moved, in the token's base units; at least 1.
    #[arg(long)]
    pub amount: u64,
}

/// The signer and delivery of a token transaction.
#[derive(Clone, Debug, clap::Args)]
pub struct Common {
    /// A node index or `faucet`: whose key signs (and whose account pays the native fee).
    #[arg(long, default_value = "faucet")]
    pub from: String,
    /// Native fee.
    #[arg(long, default_value_t = 1)]
    pub fee: u64,
    /// Node whose API receives it (default: the sender's node; node 0 for the faucet).
    #[arg(long)]
    pub via: Option<usize>,
    /// Return once submitted instead of waiting until the transaction is final and applied.
    #[arg(long)]
    pub no_wait: bool,
    /// Seconds to wait for finality at most.
    #[arg(long, default_value_t = 120)]
    pub wait_timeout: u64,
}

fn parse_id(flag: &'static str, text: &str) -> Result<Hash, TestnetError> {
    let id = TokenId::from_hex(text)
        .ok_or_else(|| bad_argument(flag, format!("{text:?}: not 64 hex")))?;
    Ok(id.0)
}

fn parse_token(text: &str) -> Result<TokenId, TestnetError> {
    parse_id("token", text).map(TokenId)
}

/// The node whose API receives a transaction: `--via`, else the sender's node, else node 0.
fn via_of(common: &Common) -> Result<usize, TestnetError> {
    Ok(match (common.via, sender_of(&common.from)?) {
        (Some(via), _) | (None, Sender::Node(via)) => via,
        (None, Sender::Faucet) => 0,
    })
}

fn positive(amount: u64) -> Result<u64, TestnetError> {
    if amount == 0 {
        return Err(bad_argument("amount", "must be at least 1 (the ledger refuses 0)"));
    }
    Ok(amount)
}

fn sender_of(text: &str) -> Result<Sender, TestnetError> {
    match text {
        "faucet" => Ok(Sender::Faucet),
        index => index
            .parse()
            .map(Sender::Node)
            .map_err(|_| bad_argument("from", format!("{index:?}: not a node index or faucet"))),
    }
}

/// The token as node `api` knows it; a clear error if it does not.
fn summary_of(api: SocketAddr, token: &TokenId) -> Result<TokenSummary, TestnetError> {
    match http::get::<TokenSummary>(api, &format!("/token/{token}")) {
        Ok(summary) => Ok(summary),
        Err(http::HttpError::Status { status: 404, .. }) => {
            Err(TokenCliError::UnknownToken { token: token.to_string() }.into())
        }
        Err(error) => Err(error.into()),
    }
}

pub(crate) fn balance_of(
    api: SocketAddr,
    token: &TokenId,
    account: &AccountId,
) -> Result<u64, TestnetError> {
    let route = format!("/token/{token}/balance/{}", account.to_hex());
    match http::get::<TokenBalance>(api, &route) {
        Ok(answer) => Ok(answer.balance),
        Err(http::HttpError::Status { status: 404, .. }) => {
            Err(TokenCliError::UnknownToken { token: token.to_string() }.into())
        }
        Err(error) => Err(error.into()),
    }
}

/// Refuse a spend the sender cannot cover.
pub(crate) fn require_balance(
    api: SocketAddr,
    token: &TokenId,
    from: &AccountId,
    amount: u64,
) -> Result<(), TestnetError> {
    let balance = balance_of(api, token, from)?;
    if balance < amount {
        return Err(TokenCliError::InsufficientBalance {
            token: token.to_string(),
            account: from.to_hex(),
            balance,
            needed: amount,
        }
        .into());
    }
    Ok(())
}

/// A signed, submitted token transaction.
struct Submitted {
    id: String,
    /// The spend key's nonce (an issue's id derives from it).
    nonce: u64,
    from: AccountId,
}

/// Sign `token_tx` with the sender's key, post it, and (unless --no-wait) wait until final.
fn submit(
    manifest: &Manifest,
    common: &Common,
    token_tx: TokenTx,
) -> Result<Submitted, TestnetError> {
    let sender = sender_of(&common.from)?;
    let via = via_of(common)?;
    let api = reachable(manifest, via)?.api;
    let key: Keypair = match sender {
        Sender::Faucet => read_key(&manifest.faucet_key)?,
        Sender::Node(index) => read_key(&node_entry(manifest, index)?.key)?,
    };
    let from = key.account();
    let nonce = account_state(api, &from)?.next_nonce;
    let tx = TransactionBody {
        from,
        nonce,
        kind: TxKind::Token(Box::new(token_tx)),
        fee: common.fee,
        parents: parents_from(api)?,
        issued_at_ms: now_ms(),
    }
    .sign(&key)
    .map_err(|e| TestnetError::Invalid(e.to_string()))?;
    let bytes = tx.encode().map_err(|e| TestnetError::Invalid(e.to_string()))?;
    let body = api_types::SignedTxRequest { tx: hex::encode(bytes) };
    // The CLI's own timing: nothing of it reaches a node's core.
    #[allow(clippy::disallowed_methods)]
    let submitted = Instant::now();
    let answer: api_types::TxAccepted =
        http::post(api, "/tx", &body).map_err(|error| no_answer(via, api, error))?;
    if !common.no_wait {
        let timeout = Duration::from_secs(common.wait_timeout);
        wait_final(manifest, via, &answer.id, submitted, timeout)?;
    }
    Ok(Submitted { id: answer.id, nonce, from })
}

/// Issue a fixed-supply token of `supply` base units from the faucet and wait until the issue
/// is final on node 0 (`load --token new`). Returns its id.
pub fn issue_load_token(manifest: &Manifest, supply: u64) -> Result<TokenId, TestnetError> {
    let issue = IssueToken {
        name: "Load Token".into(),
        symbol: "LOAD".into(),
        decimals: 0,
        initial_supply: supply,
        supply: SupplyRule::Fixed,
    };
    let common =
        Common { from: "faucet".into(), fee: 1, via: None, no_wait: false, wait_timeout: 120 };
    let done = submit(manifest, &common, TokenTx::Issue(issue))?;
    Ok(token_id(&done.from, done.nonce))
}

fn to_json(value: &impl serde::Serialize) -> Result<String, TestnetError> {
    serde_json::to_string_pretty(value).map_err(|e| TestnetError::Invalid(e.to_string()))
}

/// Run one token command; returns what to print on stdout.
pub fn run(manifest: &Manifest, command: &TokenCommand) -> Result<String, TestnetError> {
    match command {
        TokenCommand::Issue {
            name,
            symbol,
            decimals,
            supply,
            mintable,
            minter_consortium,
            cap,
            common,
        } => {
            let minter = match minter_consortium {
                Some(text) => Minter::Consortium(parse_id("minter-consortium", text)?),
                None => Minter::Issuer,
            };
            let rule = if *mintable {
                SupplyRule::Mintable { minter, cap: *cap }
            } else {
                SupplyRule::Fixed
            };
            let issue = IssueToken {
                name: name.clone(),
                symbol: symbol.clone(),
                decimals: *decimals,
                initial_supply: *supply,
                supply: rule,
            };
            // The ledger's own checks, before anything is signed.
            issue
                .validate()
                .map_err(|error| bad_argument("name/symbol/decimals/supply", error.to_string()))?;
            let done = submit(manifest, common, TokenTx::Issue(issue))?;
            Ok(token_id(&done.from, done.nonce).to_string())
        }
        TokenCommand::Transfer { movement: Movement { token, to, amount }, common } => {
            let token = parse_token(token)?;
            let amount = positive(*amount)?;
            let to = resolve_account(manifest, to)?;
            let api = api_of(manifest, common)?;
            let from = signer(manifest, &common.from)?;
            if to == from {
                return Err(bad_argument("to", "is the sender (the ledger refuses it)"));
            }
            require_balance(api, &token, &from, amount)?;
            Ok(submit(manifest, common, TokenTx::Transfer { token, to, amount })?.id)
        }
        TokenCommand::Mint { movement: Movement { token, to, amount }, common } => {
            let token = parse_token(token)?;
            let amount = positive(*amount)?;
            let to = resolve_account(manifest, to)?;
            let api = api_of(manifest, common)?;
            let from = signer(manifest, &common.from)?;
            let summary = summary_of(api, &token)?;
            match &summary.minter {
                None => {
                    return Err(TokenCliError::FixedSupply { token: token.to_string() }.into());
                }
                Some(TokenMinterView::Issuer) if summary.issuer == from.to_hex() => {}
                Some(minter) => {
                    let minter = match minter {
                        TokenMinterView::Issuer => format!("its issuer {}", summary.issuer),
                        TokenMinterView::Consortium(id) => {
                            format!("consortium {id}'s quorum (a MintToken proposal)")
                        }
                        TokenMinterView::Peg { source_chain, .. } => {
                            format!("the peg (locks proven final on chain {source_chain})")
                        }
                    };
                    return Err(TokenCliError::NotMinter {
                        token: token.to_string(),
                        minter,
                        account: from.to_hex(),
                    }
                    .into());
                }
            }
            Ok(submit(manifest, common, TokenTx::Mint { token, to, amount })?.id)
        }
        TokenCommand::Burn { token, amount, common } => {
            let token = parse_token(token)?;
            let amount = positive(*amount)?;
            let api = api_of(manifest, common)?;
            let from = signer(manifest, &common.from)?;
            require_balance(api, &token, &from, amount)?;
            Ok(submit(manifest, common, TokenTx::Burn { token, amount })?.id)
        }
        TokenCommand::Balance { token, account, via } => {
            let token = parse_token(token)?;
            let account = resolve_account(manifest, account)?;
            let api = reachable(manifest, *via)?.api;
            Ok(balance_of(api, &token, &account)?.to_string())
        }
        TokenCommand::List { token, via } => {
            let api = reachable(manifest, *via)?.api;
            match token {
                Some(token) => to_json(&summary_of(api, &parse_token(token)?)?),
                None => to_json(&http::get::<TokenList>(api, "/tokens?limit=1000")?),
            }
        }
    }
}

/// The API a command's checks read from: the node that will receive the transaction.
fn api_of(manifest: &Manifest, common: &Common) -> Result<SocketAddr, TestnetError> {
    Ok(reachable(manifest, via_of(common)?)?.api)
}

/// The account that signs for `--from`.
fn signer(manifest: &Manifest, from: &str) -> Result<AccountId, TestnetError> {
    match sender_of(from)? {
        Sender::Faucet => resolve_account(manifest, "faucet"),
        Sender::Node(index) => resolve_account(manifest, &index.to_string()),
    }
}
