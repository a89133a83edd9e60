//! The writing accounts of `db load --writers N` (docs/consortium.md, "Load"): N accounts
//! derived from this testnet's faucet key and an index, funded by the faucet and granted write
//! permission on the loaded table through the consortium's quorum, in batches.
//!
//! Why more accounts than the testnet's own keys: an account has at most `NONCE_WINDOW` =
//! 1,024 nonces above its confirmed floor, so a rate R with a time to confirmation of C
//! seconds needs more than R·C / 1,024 signers; the 4 node keys and the faucet are at that edge
//! at 3,000 writes/s.
//!
//! The grant is the one `db grant` makes (a `Propose` from one party, then `Approve`s from
//! others until the quorum m), for every writer at once: all proposals in one `POST /txs`
//! batch from the proposer, waited for until final, then each approver's approvals of all of
//! them in one batch per approver, waited for until final. At most
//! `PROPOSALS_OPEN_MAX` proposals may be open in a consortium, so more writers go in rounds.
//! Each transaction is journalled (`db history` lists them). Writers already granted, or
//! already funded, are left as they are: a second run against the same net signs from the
//! same accounts and sends nothing before its writes.

use crate::db::{DbCliError, testnet_keys};
use crate::db_store::{JournalEntry, LocalConsortium};
use crate::load_asset::LoadAsset;
use crate::manifest::{Manifest, NodeEntry};
use crate::{TestnetError, account_state, fetch_parents, http, now_ms, read_key};
use std::time::{Duration, Instant};
use vein_node::api_types::{self, ConsortiumDetail};
use vein_node::core::consortium::state::PROPOSALS_OPEN_MAX;
use vein_node::core::consortium::{ConsortiumTx, PermissionChange, proposal_id};
use vein_node::core::crypto::{AccountId, Keypair};
use vein_node::core::hash::Hash;
use vein_node::core::transaction::{TransactionBody, TxKind};

/// Most writers `db load --writers` derives: 256 accounts of 1,024 nonces in flight each hold
/// 262,144 writes unconfirmed, about 87 s of 3,000/s, far past any time to confirmation; more
/// would only lengthen the set-up (one grant round per `PROPOSALS_OPEN_MAX` = 64 writers).
pub const WRITERS_MAX: usize = 256;

/// How often the set-up reports its progress on stderr.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// The key of writer `index` of the testnet whose faucet key is `faucet`: derived from the
/// faucet's secret seed, so nobody without the testnet directory can sign as a writer, and
/// every run against one net signs from the same accounts.
pub fn writer_key(faucet: &Keypair, index: usize) -> Keypair {
    let seed = Hash::of_parts(&[
        b"vein-testnet/db-writer/v1",
        &faucet.seed(),
        &(index as u64).to_le_bytes(),
    ]);
    Keypair::from_seed(seed.0)
}

/// The label a writer signs as in reports and the journal.
pub fn writer_label(index: usize) -> String {
    format!("writer-{index}")
}

/// `--writers` must be 1..=[`WRITERS_MAX`].
pub fn check_count(count: usize) -> Result<(), DbCliError> {
    if count == 0 || count > WRITERS_MAX {
        return Err(DbCliError::WriterCount { given: count, max: WRITERS_MAX });
    }
    Ok(())
}

/// The writers of a run, ready to sign: funded, and allowed to write the table.
pub struct Writers {
    /// Their keys, by index.
    pub keys: Vec<Keypair>,
    /// How many were granted the table by this run (0 when all already were).
    pub granted: usize,
    /// Seconds spent funding and granting.
    pub setup_s: f64,
}

/// Derive `count` writers, fund the short ones from the faucet and grant the table to those
/// that may not write it yet, through the quorum; `via` is the node every set-up transaction
/// goes to and is polled on.
pub fn prepare(
    manifest: &Manifest,
    via: &NodeEntry,
    consortium: &Hash,
    table: &str,
    count: usize,
    timeout: Duration,
) -> Result<Writers, TestnetError> {
    check_count(count)?;
    let started = Instant::now();
    let faucet = read_key(&manifest.faucet_key)?;
    let keys: Vec<Keypair> = (0..count).map(|index| writer_key(&faucet, index)).collect();
    let accounts: Vec<AccountId> = keys.iter().map(Keypair::account).collect();
    crate::load::fund_accounts(manifest, via.api, &accounts, (LoadAsset::Native, timeout))?;
    let detail = crate::db::detail_of(via.api, consortium)?;
    let writes = |account: &AccountId| {
        detail.writers.get(table).is_some_and(|writers| writers.contains(&account.to_hex()))
    };
    let ungranted: Vec<(usize, AccountId)> =
        accounts.iter().copied().enumerate().filter(|(_, account)| !writes(account)).collect();
    if !ungranted.is_empty() {
        let grant = Grant { manifest, via, consortium, table, timeout };
        grant.all(&detail, &ungranted)?;
    }
    Ok(Writers { keys, granted: ungranted.len(), setup_s: started.elapsed().as_secs_f64() })
}

/// The highest next nonce of `account` any running node knows: a node a step behind the one
/// that made its last transaction final would hand out a used nonce.
pub fn highest_next_nonce(manifest: &Manifest, account: &AccountId) -> Result<u64, TestnetError> {
    let mut next = None;
    let mut last_error = None;
    for node in crate::running(manifest) {
        match account_state(node.api, account) {
            Ok(state) => next = next.max(Some(state.next_nonce)),
            Err(error) => last_error = Some(error),
        }
    }
    match (next, last_error) {
        (Some(next), _) => Ok(next),
        (None, Some(error)) => Err(error),
        (None, None) => Err(TestnetError::Invalid("no running node".into())),
    }
}

/// A batched grant of one table to many accounts through the quorum.
struct Grant<'a> {
    manifest: &'a Manifest,
    via: &'a NodeEntry,
    consortium: &'a Hash,
    table: &'a str,
    timeout: Duration,
}

impl Grant<'_> {
    /// Grant `accounts` (writer index, account) the table: proposals from the first party with
    /// a key here, approvals from the next m − 1, in rounds of the free proposal slots.
    fn all(
        &self,
        detail: &ConsortiumDetail,
        accounts: &[(usize, AccountId)],
    ) -> Result<(), TestnetError> {
        let parties: Vec<(String, Keypair)> = testnet_keys(self.manifest)?
            .into_iter()
            .filter(|(_, key)| detail.parties.contains(&key.account().to_hex()))
            .collect();
        let quorum = usize::from(detail.summary.quorum);
        let Some(((proposer_label, proposer), approvers)) =
            parties.split_first().filter(|(_, rest)| rest.len() + 1 >= quorum)
        else {
            return Err(DbCliError::NotEnoughApprovers {
                quorum: detail.summary.quorum,
                needed: quorum.saturating_sub(1),
                available: parties.len().saturating_sub(1),
            }
            .into());
        };
        let approvers = &approvers[..quorum.saturating_sub(1)];
        let slots = PROPOSALS_OPEN_MAX.saturating_sub(detail.proposals.len());
        if slots == 0 {
            return Err(DbCliError::NoProposalSlot {
                consortium: self.consortium.to_string(),
                open: detail.proposals.len(),
            }
            .into());
        }
        let mut local = LocalConsortium::load(&self.manifest.dir, self.consortium)?;
        eprintln!(
            "[db load] granting table {} to {} writer(s): proposed by {proposer_label}, \
             approved by {}",
            self.table,
            accounts.len(),
            approvers.iter().map(|(label, _)| label.as_str()).collect::<Vec<_>>().join(", ")
        );
        for round in accounts.chunks(slots) {
            let proposals: Vec<(String, ConsortiumTx)> = round
                .iter()
                .map(|(index, account)| {
                    let change =
                        PermissionChange::Grant { account: *account, table: self.table.into() };
                    let what = format!(
                        "grant {} on {}",
                        crate::db_writers::writer_label(*index),
                        self.table
                    );
                    (what, ConsortiumTx::Propose { consortium: *self.consortium, change })
                })
                .collect();
            let sent = self.send(&mut local, proposer_label, proposer, "propose", proposals)?;
            self.wait_applied("propose", &sent)?;
            let ids: Vec<Hash> = sent
                .iter()
                .map(|posted| proposal_id(self.consortium, &proposer.account(), posted.nonce))
                .collect();
            let mut approvals = Vec::new();
            for (label, key) in approvers {
                let txs = ids
                    .iter()
                    .map(|proposal| {
                        let what = format!("approve {}", proposal.short());
                        let tx = ConsortiumTx::Approve {
                            consortium: *self.consortium,
                            proposal: *proposal,
                        };
                        (what, tx)
                    })
                    .collect();
                approvals.extend(self.send(&mut local, label, key, "approve", txs)?);
            }
            self.wait_applied("approve", &approvals)?;
        }
        self.check_granted(accounts)
    }

    /// Sign `txs` from `key` with consecutive nonces, post them in one batch and journal each.
    fn send(
        &self,
        local: &mut LocalConsortium,
        label: &str,
        key: &Keypair,
        kind: &'static str,
        txs: Vec<(String, ConsortiumTx)>,
    ) -> Result<Vec<Posted>, TestnetError> {
        let from = key.account();
        let first_nonce = highest_next_nonce(self.manifest, &from)?;
        let parents = fetch_parents(self.via.api, txs.len())?;
        let mut bodies = Vec::with_capacity(txs.len());
        let mut posted = Vec::with_capacity(txs.len());
        let mut previous: Option<Hash> = None;
        for (((what, tx), [first, second]), nonce) in
            txs.into_iter().zip(parents).zip(first_nonce..)
        {
            // Chained as in `load`: each after the first approves the one before it.
            let parents = previous.map_or([first, second], |previous| [first, previous]);
            let signed = TransactionBody {
                from,
                nonce,
                kind: TxKind::Consortium(Box::new(tx)),
                fee: 1,
                parents,
                issued_at_ms: now_ms(),
            }
            .sign(key)
            .map_err(|error| TestnetError::Invalid(error.to_string()))?;
            let bytes =
                signed.encode().map_err(|error| TestnetError::Invalid(error.to_string()))?;
            let id = Hash::of(&bytes);
            bodies.push(hex::encode(&bytes));
            posted.push(Posted { id, nonce, what });
            previous = Some(id);
        }
        let request = api_types::TxBatchRequest { txs: bodies, transfers: Vec::new() };
        let answer: api_types::TxBatchResponse = http::post(self.via.api, "/txs", &request)?;
        for result in &answer.results {
            if let api_types::TxBatchItem::Refused { error } = result {
                return Err(DbCliError::SetupRefused { what: kind, reason: error.clone() }.into());
            }
        }
        for item in &posted {
            let entry = JournalEntry {
                tx: item.id.to_string(),
                kind: kind.into(),
                from: label.into(),
                what: item.what.clone(),
            };
            local.record(&self.manifest.dir, entry)?;
        }
        Ok(posted)
    }

    /// Poll `POST /units` on the set-up node until every one of `sent` is final and applied.
    fn wait_applied(&self, kind: &'static str, sent: &[Posted]) -> Result<(), TestnetError> {
        let started = Instant::now();
        let mut reported = started;
        let ids: Vec<String> = sent.iter().map(|posted| posted.id.to_string()).collect();
        loop {
            let request = api_types::UnitsRequest { ids: ids.clone() };
            let answer: api_types::UnitsResponse = http::post(self.via.api, "/units", &request)?;
            let mut done = 0;
            for (id, unit) in ids.iter().zip(&answer.units) {
                match unit {
                    Some(unit) if unit.is_final => {
                        if unit.outcome != Some(api_types::Outcome::Applied) {
                            return Err(
                                DbCliError::FinalIgnored { what: kind, tx: id.clone() }.into()
                            );
                        }
                        done += 1;
                    }
                    _ => {}
                }
            }
            if done == ids.len() {
                return Ok(());
            }
            if started.elapsed() >= self.timeout {
                let pending = ids
                    .iter()
                    .zip(&answer.units)
                    .find(|(_, unit)| !unit.as_ref().is_some_and(|unit| unit.is_final));
                return Err(TestnetError::NotFinal {
                    id: pending.map_or_else(String::new, |(id, _)| id.clone()),
                    index: self.via.index,
                    seconds: self.timeout.as_secs(),
                });
            }
            if reported.elapsed() >= PROGRESS_EVERY {
                reported = Instant::now();
                eprintln!(
                    "[db load] set-up: {done} of {} {kind} transactions final after {:.0} s",
                    ids.len(),
                    started.elapsed().as_secs_f64()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Every account of `accounts` is among the table's writers on the set-up node (the last
    /// approval is final there, so its state shows the grant).
    fn check_granted(&self, accounts: &[(usize, AccountId)]) -> Result<(), TestnetError> {
        let detail = crate::db::detail_of(self.via.api, self.consortium)?;
        let writers = detail.writers.get(self.table).cloned().unwrap_or_default();
        match accounts.iter().find(|(_, account)| !writers.contains(&account.to_hex())) {
            None => Ok(()),
            Some((index, account)) => Err(TestnetError::Invalid(format!(
                "every approval is final, yet node {} does not list {} ({account}) among the \
                 writers of {}",
                self.via.index,
                writer_label(*index),
                self.table
            ))),
        }
    }
}

/// One set-up transaction the node accepted.
struct Posted {
    id: Hash,
    nonce: u64,
    what: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writers_are_distinct_stable_and_bound_to_the_faucet_key() {
        let faucet = Keypair::derived("faucet", 0);
        let other = Keypair::derived("faucet", 1);
        let first = writer_key(&faucet, 0).account();
        assert_eq!(first, writer_key(&faucet, 0).account());
        assert_ne!(first, writer_key(&faucet, 1).account());
        assert_ne!(first, writer_key(&other, 0).account());
        assert_ne!(first, faucet.account());
    }

    #[test]
    fn a_writer_count_outside_one_to_the_maximum_is_a_typed_usage_error() {
        for bad in [0, WRITERS_MAX + 1] {
            let error = check_count(bad).unwrap_err();
            assert!(
                matches!(error, DbCliError::WriterCount { given, max: WRITERS_MAX } if given == bad)
            );
            assert!(error.is_usage(), "{error}");
        }
        assert!(check_count(1).is_ok());
        assert!(check_count(WRITERS_MAX).is_ok());
    }
}
