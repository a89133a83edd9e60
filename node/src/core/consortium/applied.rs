//! What the chain tells the rest of the node about an applied consortium transaction: the
//! sealed write (for members' replicas), or the consortium's state after a change (members,
//! keys, permissions). Its own file because it joins the consortium rules to `events` and
//! `transaction`, which themselves name consortium types.

use super::{Consortia, ConsortiumTx, consortium_id, entry_id};
use crate::core::events::Event;
use crate::core::hash::Hash;
use crate::core::transaction::{Transaction, TxKind};
use std::sync::Arc;

/// The event a consortium transaction emits once applied by the checkpoint at `height`, read
/// from `consortia` right after it (`None` for any other transaction): the sealed write (or the
/// pending entry it became), an entry's decision, the changed consortium's state, or for an
/// attestation at a certified height that height's verdict.
pub fn applied_event(
    tx: &Transaction,
    unit: Hash,
    height: u64,
    consortia: &Consortia,
) -> Option<Event> {
    let TxKind::Consortium(consortium_tx) = &tx.body.kind else { return None };
    let id = match consortium_tx.as_ref() {
        ConsortiumTx::Write(sealed) => {
            let action = Arc::new(sealed.clone());
            let entry = entry_id(&sealed.consortium, &tx.body.from, tx.body.nonce);
            if consortia.pending_entry(&sealed.consortium, &entry).is_some() {
                return Some(Event::ConsortiumEntryPending { height, tx: unit, entry, action });
            }
            return Some(Event::ConsortiumWrite { height, tx: unit, action });
        }
        ConsortiumTx::ApproveEntry { consortium, entry }
        | ConsortiumTx::DenyEntry { consortium, entry } => {
            // Still pending: a vote was recorded, nothing for a replica to do.
            if consortia.pending_entry(consortium, entry).is_some() {
                return None;
            }
            let passed = matches!(consortium_tx.as_ref(), ConsortiumTx::ApproveEntry { .. });
            return Some(Event::ConsortiumEntryDecided {
                height,
                consortium: *consortium,
                entry: *entry,
                passed,
            });
        }
        ConsortiumTx::Attest { consortium, height: attested_height, .. } => {
            let members = &consortia.get(consortium)?.members;
            let votes = consortia.attestations(consortium)?.heights.get(attested_height)?;
            let root = votes.certified?;
            let diverged = votes
                .votes
                .iter()
                .filter(|(member, vote)| **vote != root && members.contains_key(*member))
                .map(|(member, _)| *member)
                .collect();
            return Some(Event::ConsortiumCertified {
                height,
                consortium: *consortium,
                attested_height: *attested_height,
                root,
                diverged,
            });
        }
        ConsortiumTx::Create(_) => consortium_id(&tx.body.from, tx.body.nonce),
        ConsortiumTx::Propose { consortium, .. }
        | ConsortiumTx::Approve { consortium, .. }
        | ConsortiumTx::Withdraw { consortium, .. } => *consortium,
    };
    let consortium = Arc::new(consortia.get(&id)?.clone());
    Some(Event::ConsortiumChanged { height, consortium })
}
