//! What a relayer between two vein chains reads and builds, written once for its two callers:
//! the simulator's bridge (`sim/src/peg_bridge.rs`, through a node's core) and the testnet's
//! relayer (`vein-testnet peg relay`, through the API routes `GET /sidechain/headers` and the
//! registration transaction it signs).
//!
//! - [`anchor_segment`]: the source chain's active checkpoints past a height the destination's
//!   light client holds, up to the last multiple of the anchor interval `a` (and at most
//!   [`SEGMENT_HEADERS_MAX`] of them): the headers of one `SideChainTx::Anchor`.
//! - [`bridge_consortium`]: the one-party consortium a chain's relaying account creates so that
//!   it may register the other chain (`SideChainTx::Register` needs a consortium party). Its
//!   table is never written; its keys derive from the account and id, so the secret is no
//!   secret: the consortium exists only to carry the registration.

use crate::core::chain::Chain;
use crate::core::checkpoint::Checkpoint;
use crate::core::consortium::keys::{self, DataKey, KeyError, MemberSecret};
use crate::core::consortium::{Column, ColumnType, CreateConsortium, TableSchema, consortium_id};
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use crate::core::sidechain::light_client::SEGMENT_HEADERS_MAX;
use std::collections::{BTreeMap, BTreeSet};

/// The name of the consortium [`bridge_consortium`] creates (a relayer finds it by name).
pub const BRIDGE_CONSORTIUM_NAME: &str = "peg_bridge";

/// The active checkpoints of `chain` at heights `from + 1 ..= end`, where `end` is the highest
/// multiple of `anchor_interval` (at least 1) not above the head nor `from + limit` (`limit`
/// capped at [`SEGMENT_HEADERS_MAX`]). Empty when there is no such height, when `from` is above
/// the head, or when a checkpoint in the range is no longer held (pruned): an anchor must be
/// contiguous.
pub fn anchor_segment(
    chain: &Chain,
    from: u64,
    anchor_interval: u64,
    limit: u64,
) -> Vec<Checkpoint> {
    let interval = anchor_interval.max(1);
    let cap = from.saturating_add(limit.min(SEGMENT_HEADERS_MAX as u64));
    let end = chain.height().min(cap) / interval * interval;
    if end <= from || chain.active_at(from).is_none() {
        return Vec::new();
    }
    let mut segment = Vec::with_capacity((end - from) as usize);
    for height in from + 1..=end {
        let checkpoint = chain
            .active_at(height)
            .and_then(|id| chain.header(&id))
            .and_then(|header| header.checkpoint.clone());
        match checkpoint {
            Some(checkpoint) => segment.push((*checkpoint).clone()),
            None => return Vec::new(),
        }
    }
    debug_assert!(segment.len() as u64 <= SEGMENT_HEADERS_MAX as u64);
    segment
}

/// The one-party consortium `me` creates with its transaction of nonce `nonce` (its id is
/// `consortium_id(me, nonce)`), so that it may register a followed chain.
pub fn bridge_consortium(me: AccountId, nonce: u64) -> Result<CreateConsortium, KeyError> {
    let id = consortium_id(&me, nonce);
    // The simulator's tags, kept so that its runs (and trace hashes) stay as they were.
    let secret =
        MemberSecret::from_bytes(*Hash::of_parts(&[b"peg-sim member", me.as_bytes()]).as_bytes());
    let ephemeral = *Hash::of_parts(&[b"peg-sim wrap", id.as_bytes()]).as_bytes();
    let data_key = DataKey(*Hash::of_parts(&[b"peg-sim data", id.as_bytes()]).as_bytes());
    let wrapped = keys::wrap(&data_key, &id, 0, &secret.public(), ephemeral)?;
    Ok(CreateConsortium {
        name: BRIDGE_CONSORTIUM_NAME.into(),
        parties: BTreeSet::from([me]),
        members: BTreeMap::from([(me, secret.public())]),
        tables: vec![TableSchema {
            name: "notes".into(),
            columns: vec![Column {
                name: "id".into(),
                column_type: ColumnType::Integer,
                nullable: false,
            }],
            primary_key: 0,
        }],
        quorum: 1,
        wrapped: BTreeMap::from([(me, wrapped)]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::crypto::Keypair;

    #[test]
    fn the_bridge_consortium_has_one_party_who_is_its_one_member() {
        let me = Keypair::derived("relay-test", 0).account();
        let create = bridge_consortium(me, 3).unwrap();
        assert_eq!(create.parties, BTreeSet::from([me]));
        assert_eq!(create.quorum, 1);
        assert!(create.members.contains_key(&me));
        assert!(create.wrapped.contains_key(&me));
        assert_eq!(create.name, BRIDGE_CONSORTIUM_NAME);
    }
}
