//! Admission: what a node lets into its DAG and its chain. A peer's bytes are peeked, decoded
//! once per id (a duplicate costs one hash), signature-checked (in a batch per driver turn, or
//! by the shared unit cache in a simulation: the same answer either way) and judged against
//! the confirmed ledger before a unit is inserted; a checkpoint is offered to the chain. Every
//! refusal is a [`RejectReason`], counted and charged to the peer that sent it.

use super::{Node, Output, PeerId, RejectReason};
use crate::core::chain::OfferOutcome;
use crate::core::checkpoint::Checkpoint;
use crate::core::crypto::CryptoError;
use crate::core::dag::{InsertOutcome, Unit};
use crate::core::events::Event;
use crate::core::hash::Hash;
use crate::core::message::{Message, UnitBytes};
use crate::core::record::Record;
use crate::core::transaction::{Transaction, TxKind};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What is known about a unit's signature when it reaches `accept_unit`. The check itself is
/// a pure function of the unit's bytes, so a result computed earlier (in a batch, or by the
/// shared unit cache) is the one `accept_unit` would compute; it is applied at the same step,
/// so a unit's reject reason does not depend on how it arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SignatureCheck {
    /// Not checked yet: `accept_unit` verifies it.
    Pending,
    Valid,
    Invalid,
}

impl SignatureCheck {
    pub(super) fn of(result: &Result<(), CryptoError>) -> SignatureCheck {
        if result.is_ok() { SignatureCheck::Valid } else { SignatureCheck::Invalid }
    }
}

/// Transactions received in one driver turn, decoded and signature-checked together before
/// the turn's messages are handled one by one (`Node::on_messages`).
pub(super) type PreparedUnits = BTreeMap<Hash, (Arc<Unit>, SignatureCheck)>;

impl Node {
    /// Decode the transactions among `messages` that this node does not hold yet (once per id)
    /// and verify their signatures together. Anything that does not decode is left for the
    /// one-by-one path, which refuses it as before.
    pub(super) fn prepare_transactions(
        &self,
        messages: &[(PeerId, Arc<Vec<u8>>)],
    ) -> PreparedUnits {
        let cache = self.config.unit_cache.as_ref();
        let mut units: BTreeMap<Hash, Arc<Unit>> = BTreeMap::new();
        for (_, bytes) in messages {
            // An envelope the cache knows is a unit some node already verified: the one-by-one
            // path takes it from there without hashing or verifying it again.
            if cache.is_some_and(|cache| cache.unit_for_envelope(bytes).is_some()) {
                continue;
            }
            let Some(UnitBytes::Transaction(body)) = Message::peek_unit(bytes) else {
                continue;
            };
            let id = Hash::of(body);
            if units.contains_key(&id)
                || self.dag.knows(&id)
                || cache.is_some_and(|cache| cache.get(&id).is_some())
            {
                continue;
            }
            if let Ok(tx) = Transaction::decode(body) {
                let unit = Unit::from_canonical(tx, body);
                // Peeked as a transaction message whose body decoded canonically: these are
                // the unit's envelope bytes, relayed as they are.
                unit.adopt_envelope(bytes);
                units.insert(id, unit);
            }
        }
        let txs: Vec<&Transaction> = units.values().map(|unit| &unit.tx).collect();
        let checks: Vec<SignatureCheck> =
            Transaction::verify_signatures(&txs).iter().map(SignatureCheck::of).collect();
        units.into_iter().zip(checks).map(|((id, unit), check)| (id, (unit, check))).collect()
    }

    pub(super) fn handle_message(
        &mut self,
        now_ms: u64,
        from: PeerId,
        bytes: &[u8],
        shared: Option<&Arc<Vec<u8>>>,
        prepared: Option<&mut PreparedUnits>,
    ) {
        self.now_ms = self.now_ms.max(now_ms);
        self.stats.messages_in += 1;
        if self.is_banned(from) {
            self.stats.messages_from_banned += 1;
            if matches!(Message::peek_unit(bytes), Some(UnitBytes::Checkpoint(_))) {
                self.stats.checkpoints_from_banned += 1;
            }
            return;
        }
        if !self.peers.contains_key(&from) {
            self.add_peer(from);
        }
        match Message::peek_unit(bytes) {
            Some(UnitBytes::Transaction(body)) => {
                return self.on_transaction_bytes(from, body, shared, prepared);
            }
            // Every peer relays every checkpoint: drop the copies of one already held without
            // decoding them (bytes with a known id are that checkpoint's bytes).
            Some(peeked @ UnitBytes::Checkpoint(_))
                if self.chain.header(&peeked.id()).is_some() =>
            {
                return;
            }
            _ => {}
        }
        let message = match Message::decode(bytes) {
            Ok(message) => message,
            Err(error) => {
                self.reject(Some(from), RejectReason::Malformed(error));
                return;
            }
        };
        match message {
            Message::Transaction(tx) => {
                if let Err(reason) = self.accept_transaction(tx, Some(from)) {
                    self.reject(Some(from), reason);
                }
            }
            Message::Checkpoint(checkpoint) => {
                if let Err(reason) = self.accept_checkpoint(checkpoint, Some(from)) {
                    self.reject(Some(from), reason);
                }
            }
            Message::GetUnits(ids) => self.serve(from, &ids),
            Message::GetShard { file_id, shard_index } => {
                self.serve_shard(from, file_id, shard_index);
            }
            Message::Shard { file_id, shard_index, bytes } => {
                self.accept_shard(file_id, shard_index, bytes);
            }
            Message::Head { id, cumulative_weight, .. } => {
                if !self.chain.knows(&id) && cumulative_weight > self.chain.head().cumulative_weight
                {
                    self.send(from, &Message::GetUnits(vec![id]));
                }
            }
        }
    }

    /// A transaction from a peer, as its canonical bytes. The id is their hash, so a duplicate
    /// (gossip fan-out delivers each unit about fan-out times) costs one hash and one lookup and
    /// is never decoded: bytes with a known id are that unit's bytes.
    /// `shared`: the envelope behind an `Arc`, if the transport shares it; `prepared`: this
    /// turn's batch-verified transactions (`on_messages`), taken from when present instead of
    /// decoding and verifying again.
    fn on_transaction_bytes(
        &mut self,
        from: PeerId,
        body: &[u8],
        shared: Option<&Arc<Vec<u8>>>,
        prepared: Option<&mut PreparedUnits>,
    ) {
        // The same allocation as a cached unit's envelope: the same bytes, so the same id.
        let by_envelope = (self.config.unit_cache.as_ref())
            .zip(shared)
            .and_then(|(cache, envelope)| cache.unit_for_envelope(envelope));
        let id = by_envelope.as_ref().map_or_else(|| Hash::of(body), |unit| unit.id);
        if self.dag.knows(&id) {
            // Counted as `accept_unit` would: a late copy of a final, pruned unit.
            if self.dag.pruned_height(&id).is_some() {
                self.stats.units_already_final += 1;
            }
            return;
        }
        // Cloned only past the duplicate check, which most messages stop at.
        let cache = self.config.unit_cache.clone();
        // Identical bytes decode and verify identically: reuse the shared, verified copy.
        let cached = by_envelope.or_else(|| cache.as_ref().and_then(|cache| cache.get(&id)));
        let (unit, check) = match cached {
            Some(unit) => (unit, SignatureCheck::Valid),
            None => {
                let (unit, check) = match prepared.and_then(|prepared| prepared.remove(&id)) {
                    Some(prepared) => prepared,
                    None => {
                        let tx = match Transaction::decode(body) {
                            Ok(tx) => tx,
                            Err(error) => {
                                return self.reject(Some(from), RejectReason::Malformed(error));
                            }
                        };
                        (Unit::from_canonical(tx, body), SignatureCheck::Pending)
                    }
                };
                if let Some(envelope) = shared {
                    // These are the unit's envelope bytes (peeked as a transaction message
                    // whose body decoded canonically): relay them as they are.
                    unit.adopt_envelope(envelope);
                }
                match &cache {
                    // Verified here, before the plausibility checks, so that the cached copy
                    // never needs verifying again on any node.
                    Some(cache) => {
                        let valid = match check {
                            SignatureCheck::Pending => unit.tx.verify_signature().is_ok(),
                            SignatureCheck::Valid => true,
                            SignatureCheck::Invalid => false,
                        };
                        if !valid {
                            return self.reject(Some(from), RejectReason::BadSignature);
                        }
                        cache.put(id, unit.clone());
                        cache.record_envelope(&unit);
                        (unit, SignatureCheck::Valid)
                    }
                    None => (unit, check),
                }
            }
        };
        if let Err(reason) = self.accept_unit(unit, check, Some(from)) {
            self.reject(Some(from), reason);
        }
    }

    /// Validate and insert a transaction; gossip it on success.
    pub fn accept_transaction(
        &mut self,
        tx: Transaction,
        from: Option<PeerId>,
    ) -> Result<(), RejectReason> {
        let unit = Unit::new(tx)?;
        self.accept_unit(unit, SignatureCheck::Pending, from)
    }

    /// Validate and insert signed transactions in order (a wallet's batch); one outcome each,
    /// the id on success. The signatures of the new ones are verified together first (one
    /// batch equation, the same results as one by one); each is then accepted in order.
    pub fn accept_transactions(
        &mut self,
        txs: Vec<Transaction>,
    ) -> Vec<Result<Hash, RejectReason>> {
        let units: Vec<Result<Arc<Unit>, RejectReason>> =
            txs.into_iter().map(|tx| Unit::new(tx).map_err(RejectReason::from)).collect();
        // Units already held return before their signature is looked at: not worth verifying.
        let fresh: Vec<&Transaction> = units
            .iter()
            .filter_map(|unit| unit.as_ref().ok())
            .filter(|unit| !self.dag.knows(&unit.id))
            .map(|unit| &unit.tx)
            .collect();
        let mut checks = Transaction::verify_signatures(&fresh).into_iter();
        let checks: Vec<SignatureCheck> = units
            .iter()
            .map(|unit| match unit {
                Ok(unit) if !self.dag.knows(&unit.id) => {
                    checks.next().as_ref().map_or(SignatureCheck::Pending, SignatureCheck::of)
                }
                _ => SignatureCheck::Pending,
            })
            .collect();
        units
            .into_iter()
            .zip(checks)
            .map(|(unit, check)| {
                let unit = unit?;
                let id = unit.id;
                self.accept_unit(unit, check, None).map(|()| id)
            })
            .collect()
    }

    /// Validate and insert a unit. `check` is what is already known of its signature (see
    /// [`SignatureCheck`]).
    pub(super) fn accept_unit(
        &mut self,
        unit: Arc<Unit>,
        check: SignatureCheck,
        from: Option<PeerId>,
    ) -> Result<(), RejectReason> {
        if self.dag.pruned_height(&unit.id).is_some() {
            // A late copy of a unit that is final and pruned: nothing to do, nothing wrong.
            self.stats.units_already_final += 1;
            return Ok(());
        }
        if self.dag.knows(&unit.id) {
            return Ok(());
        }
        let needed_as_parent = from.is_some() && self.requested.remove(&unit.id);
        if self.defers_gossip(&unit, needed_as_parent) {
            return Ok(());
        }
        let body = &unit.tx.body;
        let params = self.chain.params();
        if body.fee < params.fee_min {
            return Err(RejectReason::FeeTooLow { fee: body.fee, minimum: params.fee_min });
        }
        if body.issued_at_ms > self.now_ms.saturating_add(params.future_drift_ms) {
            return Err(RejectReason::FromTheFuture {
                issued_at_ms: body.issued_at_ms,
                now_ms: self.now_ms,
            });
        }
        let needed = body.debit().ok_or(RejectReason::AmountOverflow)?;
        // Invalid whatever the ledger: White Flag would ignore it in every order, and tip
        // selection never approves a cone holding it, so admitted it would stay a tip forever
        // (a wallet paying itself once made tips grow without bound). A requested parent is
        // exempt: a checkpoint that holds it needs it to connect, and White Flag ignores it.
        if !needed_as_parent
            && let TxKind::Transfer { to, .. } = &body.kind
            && *to == body.from
        {
            return Err(RejectReason::SelfTransfer);
        }
        // A transfer of nothing only spends a fee and a nonce to add a unit: refused on
        // arrival by every node (same exemption: a requested parent is a checkpoint's, and
        // the ledger still applies it there, so replays and old chains keep their roots).
        if !needed_as_parent && matches!(body.kind, TxKind::Transfer { amount: 0, .. }) {
            return Err(RejectReason::ZeroAmount);
        }
        let ledger = self.chain.ledger();
        // An Ethereum transaction that does not decode, recover or carry this network's chain
        // id can never execute; one whose nonce is used never will again.
        if !needed_as_parent && let TxKind::Evm(call) = &body.kind {
            let tx = call.decode(self.chain.evm_chain_id())?;
            let next = ledger.evm().nonce(&tx.sender);
            if tx.nonce < next {
                return Err(RejectReason::EvmNonceUsed { nonce: tx.nonce, next });
            }
        }
        // Plausibility against the confirmed ledger; skipped for requested parents.
        if !needed_as_parent {
            if ledger.account(&body.from).is_some_and(|account| account.nonce_used(body.nonce)) {
                return Err(RejectReason::NonceUsed { nonce: body.nonce });
            }
            let balance = ledger.balance(&body.from);
            if balance < needed {
                return Err(RejectReason::InsufficientBalance { balance, needed });
            }
        }
        match check {
            SignatureCheck::Pending => {
                unit.tx.verify_signature().map_err(|_| RejectReason::BadSignature)?;
            }
            SignatureCheck::Valid => {}
            SignatureCheck::Invalid => return Err(RejectReason::BadSignature),
        }
        if unit.tx.body.parents.iter().any(|parent| self.dag.pruned_height(parent).is_some()) {
            self.stats.units_on_final_parents += 1;
        }
        let outcome = self.dag.insert(unit.clone()).map_err(|_| RejectReason::EqualParents)?;
        match outcome {
            InsertOutcome::Duplicate => Ok(()),
            InsertOutcome::AlreadyFinal { .. } => {
                self.stats.units_already_final += 1;
                Ok(())
            }
            InsertOutcome::Orphaned { missing } => {
                self.stats.units_orphaned += 1;
                self.emit(Event::UnitOrphaned { id: unit.id, missing: missing.clone() });
                if let Some(peer) = from {
                    self.request(peer, missing);
                }
                Ok(())
            }
            InsertOutcome::Inserted { released } => {
                self.on_units_inserted(std::iter::once(unit).chain(released).collect(), from);
                Ok(())
            }
        }
    }

    fn on_units_inserted(&mut self, units: Vec<Arc<Unit>>, from: Option<PeerId>) {
        for unit in &units {
            self.stats.units_accepted += 1;
            self.emit(Event::UnitAccepted { id: unit.id, own: from.is_none() });
            self.gossip_transaction(unit, from);
            if let Ok(envelope) = unit.envelope() {
                self.outputs.push_back(Output::Persist(Record::Unit { id: unit.id, envelope }));
            }
        }
        // A checkpoint may have been waiting for these units.
        if !self.needs_fork_choice(&units) {
            return;
        }
        let head_before = self.chain.head().id;
        let missing = self.chain.update_head(&mut self.dag);
        self.after_chain_change(head_before, from, missing);
    }

    pub(super) fn accept_checkpoint(
        &mut self,
        checkpoint: Checkpoint,
        from: Option<PeerId>,
    ) -> Result<(), RejectReason> {
        let checkpoint = Arc::new(checkpoint);
        let head_before = self.chain.head().id;
        let outcome = self.chain.offer(checkpoint.clone(), self.now_ms, &mut self.dag)?;
        match outcome {
            OfferOutcome::Duplicate => {}
            OfferOutcome::BelowHorizon { .. } => self.stats.checkpoints_below_horizon += 1,
            OfferOutcome::MissingPrev { prev } => {
                if let Some(peer) = from {
                    self.request(peer, vec![prev]);
                }
            }
            OfferOutcome::Accepted { missing_units, released } => {
                self.note_public_height(&checkpoint, &released, from);
                self.relay_checkpoints(&checkpoint, &released, from);
                self.after_chain_change(head_before, from, missing_units);
            }
        }
        Ok(())
    }
}
