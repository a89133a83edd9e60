//! The token share of the simulated workload (`SimConfig::token_share`, docs/tokens.md). A
//! funded node's first token transaction issues its own token, mintable by itself; later ones
//! transfer, mint or burn it, or pass on some of another token the node holds. The choices come
//! from the workload's own seeded stream and the node's ledger, so a run replays exactly. A
//! token transaction that the checkpoint order makes invalid (a spend of a balance whose credit
//! is not applied yet) is ignored like any invalid transaction; the supply invariant must hold
//! either way.

use vein_node::core::crypto::AccountId;
use vein_node::core::node::Node;
use vein_node::core::token::{IssueToken, Minter, SupplyRule, TokenId, TokenTx};
use vein_node::core::transaction::TxKind;

/// Initial supply of every simulated token.
pub const INITIAL_SUPPLY: u64 = 1_000_000;

/// The seeded draws behind one token transaction.
#[derive(Clone, Copy, Debug)]
pub struct TokenDraw {
    /// 0..100: which action.
    pub action: u64,
    /// 1..=1000.
    pub amount: u64,
    /// Picks among the tokens the node holds.
    pub pick: u64,
    /// The recipient of a transfer or mint (the workload's randomly drawn other node; a draw of
    /// the issuer itself is redirected to a fixed outside account).
    pub to: AccountId,
}

/// The first applied token this node issued (until one is applied, every token transaction of
/// the node is an issue: a few extra tokens, each with its own invariant to keep).
fn own_token(node: &Node) -> Option<TokenId> {
    let account = node.account();
    node.chain().ledger().tokens().iter().find(|token| token.issuer == account).map(|t| t.id)
}

/// What `node` submits for `draw`: an issue until its token is applied, then mostly transfers.
pub fn token_tx(node: &Node, draw: &TokenDraw) -> TxKind {
    let account = node.account();
    let tokens = node.chain().ledger().tokens();
    let Some(own) = own_token(node) else {
        let index = account.as_bytes()[0];
        return TxKind::Token(Box::new(TokenTx::Issue(IssueToken {
            name: format!("Sim token {index}"),
            symbol: format!("SIM{index}"),
            decimals: 2,
            initial_supply: INITIAL_SUPPLY,
            supply: SupplyRule::Mintable { minter: Minter::Issuer, cap: None },
        })));
    };
    let amount = draw.amount;
    let to = if draw.to == account { AccountId([0x5a; 32]) } else { draw.to };
    let token_tx = match draw.action {
        0..60 => TokenTx::Transfer { token: own, to, amount },
        60..75 => TokenTx::Mint { token: own, to, amount },
        75..85 => TokenTx::Burn { token: own, amount },
        _ => {
            let held: Vec<TokenId> = tokens
                .iter()
                .map(|token| token.id)
                .filter(|id| *id != own && tokens.balance(id, &account) > 0)
                .collect();
            match held.get((draw.pick % held.len().max(1) as u64) as usize) {
                Some(token) => {
                    let balance = tokens.balance(token, &account);
                    TokenTx::Transfer { token: *token, to, amount: amount.min(balance) }
                }
                None => TokenTx::Transfer { token: own, to, amount },
            }
        }
    };
    TxKind::Token(Box::new(token_tx))
}
