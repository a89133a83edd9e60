//! [`Client`]: one node's API address and, for privileged routes, its API token. Each method
//! is one route (or one signed transaction posted to `POST /tx`) with the node's own request
//! and response types. Transactions are signed here, with the caller's key: the node never
//! sees a private key. A transaction's nonce is the sender's confirmed next nonce and its
//! parents are the head checkpoint's anchors ([`parents_of`]), so a sender that waits for each
//! transaction to be final before the next ([`Client::wait_final`]) never collides with itself.

use crate::error::SdkError;
use crate::http::{self, HttpError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use vein_node::api_types;
use vein_node::core::crypto::{AccountId, Keypair};
use vein_node::core::hash::Hash;
use vein_node::core::token::{IssueToken, TokenId, TokenTx, token_id};
use vein_node::core::transaction::{Transaction, TransactionBody, TxKind};

/// Pause between [`Client::wait_final`]'s polls of `GET /unit/{id}`.
pub const WAIT_POLL: Duration = Duration::from_millis(100);

/// A client of one node's HTTP API.
#[derive(Clone, Debug)]
pub struct Client {
    addr: SocketAddr,
    token: Option<String>,
}

/// A transaction the node accepted: its unit id and the nonce it spends (ids of what it
/// creates derive from the nonce: a consortium's, a token's, a proposal's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Submitted {
    /// The unit id, for `GET /unit/{id}` and [`Client::wait_final`].
    pub id: Hash,
    /// The sender's nonce the transaction spends.
    pub nonce: u64,
}

/// A transaction seen final and applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Finality {
    /// The height of the checkpoint that confirmed it.
    pub height: u64,
    /// The node's own accepted-to-final time, if it keeps the times.
    pub node_ms: Option<u64>,
}

/// A key file: the 32-byte ed25519 seed as 64 hex characters (what `vein-testnet` and
/// `vein-node` write).
pub fn load_key(path: &Path) -> Result<Keypair, SdkError> {
    let error =
        |reason: &str| SdkError::Key { path: path.display().to_string(), reason: reason.into() };
    let text = std::fs::read_to_string(path).map_err(|source| error(&source.to_string()))?;
    let bytes = hex::decode(text.trim()).map_err(|_| error("not hexadecimal"))?;
    let seed: [u8; 32] =
        bytes.try_into().map_err(|_| error("expected 32 bytes (64 hex characters)"))?;
    Ok(Keypair::from_seed(seed))
}

/// Two distinct parents for a transaction signed off the node: the head checkpoint's anchors
/// (confirmed units), or an anchor and genesis. Not the current tips: a tip may be the very
/// spend the new transaction conflicts with, and a unit whose past cone holds both sides of a
/// conflict is never approved, so it and every innocent unit only it approves would be stranded.
pub fn parents_of(status: &api_types::Status) -> Result<[Hash; 2], SdkError> {
    let parse = |text: &String| {
        parse_hash(text).ok_or_else(|| SdkError::BadAnswer {
            route: "/status".into(),
            what: "a unit id",
            reason: format!("{text:?} is not 64 hex"),
        })
    };
    let anchors = status.anchors.iter().map(parse).collect::<Result<Vec<Hash>, _>>()?;
    let genesis = parse(&status.genesis_id)?;
    Ok(match anchors.as_slice() {
        [first, second, ..] => [*first, *second],
        [only] if *only != genesis => [*only, genesis],
        _ => [genesis, genesis],
    })
}

/// Unix milliseconds on this machine's clock: a transaction's `issued_at_ms`, which the node
/// checks against its own clock (a unit dated too far ahead is refused).
#[allow(clippy::disallowed_methods)] // the client's own clock, as the protocol asks
fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// A hash (a unit, file, consortium or token id) from its 64 hex characters.
pub fn parse_hash(text: &str) -> Option<Hash> {
    let bytes = hex::decode(text.trim()).ok()?;
    <[u8; 32]>::try_from(bytes).ok().map(Hash)
}

pub(crate) fn parse_id(route: &str, text: &str) -> Result<Hash, SdkError> {
    parse_hash(text).ok_or_else(|| SdkError::BadAnswer {
        route: route.into(),
        what: "a unit id",
        reason: format!("{text:?} is not 64 hex"),
    })
}

impl Client {
    /// A client of the node whose API listens on `addr`, without a token.
    pub fn new(addr: SocketAddr) -> Client {
        Client { addr, token: None }
    }

    /// The same client sending `token` on privileged routes (`None`: none).
    pub fn with_token(self, token: Option<String>) -> Client {
        Client { token, ..self }
    }

    /// The node's API address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `GET path` on an open route, parsed as `R`.
    pub fn get<R: DeserializeOwned>(&self, path: &str) -> Result<R, SdkError> {
        Ok(http::get(self.addr, path)?)
    }

    /// `GET path` with the API token, parsed as `R`.
    pub fn get_authorized<R: DeserializeOwned>(&self, path: &str) -> Result<R, SdkError> {
        Ok(http::get_authorized(self.addr, path, self.token.as_deref())?)
    }

    /// `POST path` with `body` (and the token, if the client has one), parsed as `R`.
    pub fn post<B: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<R, SdkError> {
        Ok(http::post_authorized(self.addr, path, body, self.token.as_deref())?)
    }

    /// `GET /status`: heights, head, anchors, peers and the node's own account.
    pub fn status(&self) -> Result<api_types::Status, SdkError> {
        self.get("/status")
    }

    /// `GET /balance/{account}`: confirmed balance and next nonce.
    pub fn balance(&self, account: &AccountId) -> Result<api_types::AccountBalance, SdkError> {
        self.get(&format!("/balance/{}", account.to_hex()))
    }

    /// `GET /unit/{id}`; `None` while the node does not hold it.
    pub fn unit(&self, id: &Hash) -> Result<Option<api_types::Unit>, SdkError> {
        match http::get(self.addr, &format!("/unit/{id}")) {
            Ok(unit) => Ok(Some(unit)),
            Err(HttpError::Status { status: 404, .. }) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Sign a transaction of `kind` from `key`, with its confirmed next nonce and the head's
    /// anchors as parents.
    pub fn sign(
        &self,
        key: &Keypair,
        kind: TxKind,
        fee: u64,
        what: &'static str,
    ) -> Result<Transaction, SdkError> {
        let nonce = self.balance(&key.account())?.next_nonce;
        self.sign_at(key, nonce, kind, fee, what)
    }

    /// [`Client::sign`] with a nonce the caller read already (ids such as a consortium's
    /// derive from it, and the transaction must name them).
    pub fn sign_at(
        &self,
        key: &Keypair,
        nonce: u64,
        kind: TxKind,
        fee: u64,
        what: &'static str,
    ) -> Result<Transaction, SdkError> {
        let body = TransactionBody {
            from: key.account(),
            nonce,
            kind,
            fee,
            parents: parents_of(&self.status()?)?,
            issued_at_ms: now_ms(),
        };
        body.sign(key).map_err(|error| SdkError::Build { what, reason: error.to_string() })
    }

    /// `POST /tx` with a signed transaction: open to anyone (the signature authorises it).
    pub fn submit_signed(&self, tx: &Transaction) -> Result<Submitted, SdkError> {
        let bytes =
            tx.encode().map_err(|e| SdkError::Build { what: "signed", reason: e.to_string() })?;
        let request = api_types::SignedTxRequest { tx: hex::encode(bytes) };
        let answer: api_types::TxAccepted = http::post(self.addr, "/tx", &request)?;
        Ok(Submitted { id: parse_id("/tx", &answer.id)?, nonce: tx.body.nonce })
    }

    /// Sign a transaction of `kind` from `key` and post it.
    pub fn submit(
        &self,
        key: &Keypair,
        kind: TxKind,
        fee: u64,
        what: &'static str,
    ) -> Result<Submitted, SdkError> {
        self.submit_signed(&self.sign(key, kind, fee, what)?)
    }

    /// Move `amount` base units from `key`'s account to `to`.
    pub fn transfer(
        &self,
        key: &Keypair,
        to: &AccountId,
        amount: u64,
        fee: u64,
    ) -> Result<Submitted, SdkError> {
        self.submit(key, TxKind::Transfer { to: *to, amount }, fee, "transfer")
    }

    /// Issue a business token from `key` (docs/tokens.md): the initial supply is credited to
    /// its account. The ledger's own checks run first (name, symbol, decimals, supply).
    pub fn issue_token(
        &self,
        key: &Keypair,
        issue: IssueToken,
        fee: u64,
    ) -> Result<(TokenId, Submitted), SdkError> {
        issue
            .validate()
            .map_err(|error| SdkError::Build { what: "token issue", reason: error.to_string() })?;
        let kind = TxKind::Token(Box::new(TokenTx::Issue(issue)));
        let submitted = self.submit(key, kind, fee, "token issue")?;
        Ok((token_id(&key.account(), submitted.nonce), submitted))
    }

    /// Move `amount` of business token `token` from `key`'s account to `to` (docs/tokens.md);
    /// the fee is paid in the native coin.
    pub fn token_transfer(
        &self,
        key: &Keypair,
        token: &TokenId,
        to: &AccountId,
        amount: u64,
        fee: u64,
    ) -> Result<Submitted, SdkError> {
        let kind = TxKind::Token(Box::new(TokenTx::Transfer { token: *token, to: *to, amount }));
        self.submit(key, kind, fee, "token transfer")
    }

    /// `GET /token/{id}/balance/{account}`.
    pub fn token_balance(
        &self,
        token: &TokenId,
        account: &AccountId,
    ) -> Result<api_types::TokenBalance, SdkError> {
        self.get(&format!("/token/{token}/balance/{}", account.to_hex()))
    }

    /// Poll `GET /unit/{id}` until the transaction is final, at most `timeout`. Final but
    /// ignored by the ledger is [`SdkError::FinalIgnored`]; not final in time is
    /// [`SdkError::NotFinal`].
    #[allow(clippy::disallowed_methods)] // a client's wait on the wall clock, bounded
    pub fn wait_final(&self, id: &Hash, timeout: Duration) -> Result<Finality, SdkError> {
        let started = Instant::now();
        loop {
            if let Some(unit) = self.unit(id)?.filter(|unit| unit.is_final) {
                if unit.outcome != Some(api_types::Outcome::Applied) {
                    return Err(SdkError::FinalIgnored { id: id.to_string() });
                }
                let node_ms = unit
                    .times
                    .and_then(|times| Some(times.final_ms?.saturating_sub(times.accepted_ms?)));
                let height = unit.confirmed_height.unwrap_or_default();
                return Ok(Finality { height, node_ms });
            }
            if started.elapsed() + WAIT_POLL > timeout {
                return Err(SdkError::NotFinal { id: id.to_string(), seconds: timeout.as_secs() });
            }
            std::thread::sleep(WAIT_POLL);
        }
    }

    /// Poll `GET /status` until the node's head is at `height` or above, at most `timeout`:
    /// a member's replica or a holder's ledger has then applied what that checkpoint holds.
    #[allow(clippy::disallowed_methods)] // a client's wait on the wall clock, bounded
    pub fn wait_height(&self, height: u64, timeout: Duration) -> Result<u64, SdkError> {
        let started = Instant::now();
        loop {
            let status = self.status()?;
            if status.height >= height {
                return Ok(status.height);
            }
            if started.elapsed() + WAIT_POLL > timeout {
                return Err(SdkError::Timeout {
                    what: format!("height {height} (the node is at {})", status.height),
                    seconds: timeout.as_secs(),
                });
            }
            std::thread::sleep(WAIT_POLL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(genesis: &str, anchors: &[&str]) -> api_types::Status {
        api_types::Status {
            account: "00".repeat(32),
            genesis_id: genesis.into(),
            height: 3,
            head: "11".repeat(32),
            head_ledger_root: "22".repeat(32),
            final_height: 1,
            final_id: None,
            final_ledger_root: None,
            anchors: anchors.iter().map(|anchor| anchor.to_string()).collect(),
            peers: 0,
            dag_units: 0,
            orphans: 0,
            tips: 0,
            balance: 0,
            next_nonce: 0,
            supply: 0,
            chain_id: "test".into(),
            listen: "127.0.0.1:1".into(),
            peers_live: Vec::new(),
            plot_nonces: 0,
            policy: "honest".into(),
            released_height: None,
            faults: api_types::InjectedFaults::default(),
        }
    }

    #[test]
    fn parents_are_two_anchors_or_an_anchor_and_genesis() {
        let genesis = "aa".repeat(32);
        let (first, second, third) = ("01".repeat(32), "02".repeat(32), "03".repeat(32));
        let hash = |text: &String| parse_hash(text).unwrap();
        let both = parents_of(&status(&genesis, &[&first, &second, &third])).unwrap();
        assert_eq!(both, [hash(&first), hash(&second)]);
        let one = parents_of(&status(&genesis, &[&first])).unwrap();
        assert_eq!(one, [hash(&first), hash(&genesis)]);
        let none = parents_of(&status(&genesis, &[])).unwrap();
        assert_eq!(none, [hash(&genesis), hash(&genesis)]);
        let only_genesis = parents_of(&status(&genesis, &[&genesis])).unwrap();
        assert_eq!(only_genesis, [hash(&genesis), hash(&genesis)]);
        let bad = parents_of(&status(&genesis, &["xyz"])).unwrap_err();
        assert!(bad.to_string().contains("/status answered a unit id"), "{bad}");
    }

    #[test]
    fn hashes_and_key_files_refuse_what_is_not_64_hex() {
        assert!(parse_hash(&"ab".repeat(32)).is_some());
        assert!(parse_hash(&format!(" {}\n", "ab".repeat(32))).is_some());
        assert!(parse_hash(&"ab".repeat(31)).is_none());
        assert!(parse_hash(&"zz".repeat(32)).is_none());
        let dir = std::env::temp_dir().join(format!("vein-sdk-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.key");
        std::fs::write(&good, format!("{}\n", "07".repeat(32))).unwrap();
        assert_eq!(load_key(&good).unwrap().seed(), [7u8; 32]);
        let short = dir.join("short.key");
        std::fs::write(&short, "0707").unwrap();
        assert!(load_key(&short).unwrap_err().to_string().contains("expected 32 bytes"));
        assert!(load_key(&dir.join("missing.key")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
