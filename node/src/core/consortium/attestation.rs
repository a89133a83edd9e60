//! States on chain: member nodes attest their replica's state root at a checkpoint height, and
//! a quorum of matching attestations certifies that root (docs/consortium.md).
//!
//! Model:
//! - `Attest { consortium, height, root }` is signed by a member node's account: "my replica's
//!   root at the end of checkpoint `height` is `root`". One attestation per member per height.
//! - Window: an attestation applied by the checkpoint at `C` must name a height `H` with
//!   `C − ATTESTATION_WINDOW ≤ H < C`. A root at `C` cannot be known before `C` is applied, so
//!   `H < C`; heights older than the window are closed, which bounds the state to at most
//!   `ATTESTATION_WINDOW` open heights of at most `MEMBERS_MAX` votes each.
//! - Quorum: a strict majority of the consortium's current member nodes
//!   ([`attestation_quorum`]). Two different roots can then never both be certified at one
//!   height. The votes are counted against the member set at the time of each attestation.
//! - Certified: the consortium keeps every open height's certified root (if any) and the
//!   latest certified height and root (monotone: a lower height certified later does not move
//!   it back).
//! - Diverged: a member whose vote at a certified height differs from the certified root is
//!   recorded with that height and both roots, whether its vote came before the certifying one
//!   or after. A later matching vote at a higher certified height clears it (the member repaired
//!   its replica).
//!
//! - Signer: a member node may sign its attestations with its own account, or with its
//!   attestation account ([`attestation_key`]: derived from the node key under a
//!   domain-separated tag) carrying an [`AttestationCertificate`] the node key signed. The
//!   attestation account has its own nonces, so a client signing writes with the node's key
//!   (a party that is also a member node) never races the node for a nonce. Replay protection
//!   is unchanged: the attestation account's nonce, plus one vote per (member, height).
//!
//! This state is a separate map from [`super::Consortium`], so an attestation's undo record is
//! one consortium's attestations (a few KiB), not the consortium with its keys.

use super::error::ConsortiumError;
use super::state::Consortium;
use crate::core::crypto::{self, AccountId, Keypair, Signature};
use crate::core::hash::Hash;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many checkpoint heights below the applying one an attestation may name.
pub const ATTESTATION_WINDOW: u64 = 16;

/// Domain of an attestation key's derivation and of the certificate's signed message: neither
/// can be confused with a transaction signature (`vein/transaction/v0`) or another secret the
/// node derives from its seed.
const ATTESTATION_KEY_DOMAIN: &[u8] = b"vein/consortium-attestation-key/v0";

/// A member node's attestation key, derived from its node key: the node recreates it at every
/// start, nobody without the node key can, and its account is not the node's.
pub fn attestation_key(node: &Keypair) -> Keypair {
    Keypair::from_seed(Hash::of_parts(&[ATTESTATION_KEY_DOMAIN, &node.seed()]).0)
}

/// A member node's statement that `attester` signs attestations for it: the member's signature
/// over the domain and the attester's account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestationCertificate {
    /// The member node the attestations count for.
    pub member: AccountId,
    /// `member`'s signature over [`ATTESTATION_KEY_DOMAIN`] and the attester's account.
    pub signature: Signature,
}

impl AttestationCertificate {
    /// The certificate by which `node` lets its attestation key ([`attestation_key`]) vote.
    pub fn issue(node: &Keypair) -> AttestationCertificate {
        let attester = attestation_key(node).account();
        let signature = node.sign(&Self::message(&attester));
        AttestationCertificate { member: node.account(), signature }
    }

    fn message(attester: &AccountId) -> Vec<u8> {
        [ATTESTATION_KEY_DOMAIN, &attester.0].concat()
    }

    /// Whose vote an attestation signed by `from` is: `from`'s own without a certificate, the
    /// certified member's with one that member signed for `from`.
    pub fn voter(
        certificate: Option<&AttestationCertificate>,
        from: &AccountId,
    ) -> Result<AccountId, ConsortiumError> {
        let Some(certificate) = certificate else { return Ok(*from) };
        crypto::verify(&certificate.member, &Self::message(from), &certificate.signature).map_err(
            |_| ConsortiumError::BadAttestationCertificate {
                member: certificate.member,
                attester: *from,
            },
        )?;
        Ok(certificate.member)
    }
}

/// Matching attestations that certify a root: a strict majority of `members` member nodes.
pub fn attestation_quorum(members: usize) -> usize {
    members / 2 + 1
}

/// One consortium's attestation state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestations {
    /// The highest certified height and its root.
    pub certified: Option<Certified>,
    /// The open heights (within the window of the last attestation applied).
    pub heights: BTreeMap<u64, HeightVotes>,
    /// Members whose vote at a certified height differs from the certified root.
    pub diverged: BTreeMap<AccountId, Divergence>,
}

/// The highest certified height of a consortium and the root certified there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certified {
    /// Checkpoint height of the certified root.
    pub height: u64,
    /// Replica state root a strict majority of member nodes attested at `height`.
    pub root: Hash,
}

/// The votes at one height and, once a quorum matched, the certified root.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeightVotes {
    /// Each member node's attested root at this height.
    pub votes: BTreeMap<AccountId, Hash>,
    /// The root a quorum of `votes` matched, once one did; never changes afterwards.
    pub certified: Option<Hash>,
}

/// A member node whose attested root differs from the certified one at a height.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Divergence {
    /// Certified height of the mismatch: the highest judged for this member.
    pub height: u64,
    /// Root the member attested.
    pub attested: Hash,
    /// Root certified by the majority.
    pub certified: Hash,
}

impl Attestations {
    /// True when no height is certified or open and no member is recorded as diverged.
    pub fn is_empty(&self) -> bool {
        self.certified.is_none() && self.heights.is_empty() && self.diverged.is_empty()
    }

    /// The certified root at `height`, if that height is open and certified.
    pub fn certified_at(&self, height: u64) -> Option<Hash> {
        self.heights.get(&height).and_then(|votes| votes.certified)
    }

    /// The state after `from` attests `root` at `height`, applied by the checkpoint at
    /// `checkpoint`.
    pub fn attest(
        &self,
        consortium: &Consortium,
        from: &AccountId,
        height: u64,
        root: Hash,
        checkpoint: u64,
    ) -> Result<Attestations, ConsortiumError> {
        if !consortium.members.contains_key(from) {
            return Err(ConsortiumError::NotAMember { consortium: consortium.id, node: *from });
        }
        if height >= checkpoint || height.saturating_add(ATTESTATION_WINDOW) < checkpoint {
            return Err(ConsortiumError::AttestationHeight {
                height,
                checkpoint,
                window: ATTESTATION_WINDOW,
            });
        }
        let mut next = self.clone();
        next.heights.retain(|open, _| open.saturating_add(ATTESTATION_WINDOW) >= checkpoint);
        next.diverged.retain(|member, _| consortium.members.contains_key(member));
        let at = next.heights.entry(height).or_default();
        if at.votes.insert(*from, root).is_some() {
            return Err(ConsortiumError::AlreadyAttested {
                consortium: consortium.id,
                height,
                node: *from,
            });
        }
        if at.certified.is_none() {
            let quorum = attestation_quorum(consortium.members.len());
            let matching = at
                .votes
                .iter()
                .filter(|(member, vote)| **vote == root && consortium.members.contains_key(member))
                .count();
            if matching >= quorum {
                at.certified = Some(root);
            }
        }
        if let Some(certified) = at.certified {
            // Judge every vote at this height: all of them when it was just certified, and
            // again (idempotently) for a late vote.
            // A node removed since it voted is no member to judge.
            let votes: Vec<(AccountId, Hash)> = at
                .votes
                .iter()
                .filter(|(member, _)| consortium.members.contains_key(member))
                .map(|(member, vote)| (*member, *vote))
                .collect();
            for (member, vote) in votes {
                next.judge(member, height, vote, certified);
            }
            if next.certified.is_none_or(|latest| latest.height < height) {
                next.certified = Some(Certified { height, root: certified });
            }
        }
        debug_assert!(next.heights.len() as u64 <= ATTESTATION_WINDOW + 1);
        debug_assert!(next.diverged.len() <= consortium.members.len());
        Ok(next)
    }

    /// Record or clear `member`'s divergence given its `vote` at certified `height`. Only the
    /// member's highest judged height counts: a judgement at a lower height (certified late)
    /// neither clears a later divergence nor records one below a later match.
    fn judge(&mut self, member: AccountId, height: u64, vote: Hash, certified: Hash) {
        let recorded_below = self.diverged.get(&member).is_none_or(|known| known.height <= height);
        if vote == certified {
            if recorded_below {
                self.diverged.remove(&member);
            }
            return;
        }
        let matched_above = self
            .heights
            .range(height + 1..)
            .any(|(_, at)| at.certified.is_some_and(|root| at.votes.get(&member) == Some(&root)));
        if recorded_below && !matched_above {
            self.diverged.insert(member, Divergence { height, attested: vote, certified });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn consortium(members: usize) -> (Consortium, Vec<AccountId>) {
        let nodes: Vec<AccountId> =
            (0..members as u64).map(|i| Keypair::derived("attest", i).account()).collect();
        let consortium = Consortium {
            id: Hash::of(b"attest"),
            name: "c".into(),
            parties: BTreeSet::from([nodes[0]]),
            members: nodes.iter().map(|node| (*node, [0u8; 32])).collect(),
            quorum: 1,
            tables: BTreeMap::new(),
            writers: BTreeMap::new(),
            key_epoch: 0,
            wrapped: BTreeMap::new(),
            key_chain: BTreeMap::new(),
            proposals: BTreeMap::new(),
            approval_tables: BTreeSet::new(),
        };
        (consortium, nodes)
    }

    #[test]
    fn a_strict_majority_certifies_and_the_odd_member_is_diverged_before_or_after() {
        let (consortium, nodes) = consortium(4);
        let (good, bad) = (Hash::of(b"good"), Hash::of(b"bad"));
        let mut state = Attestations::default();
        state = state.attest(&consortium, &nodes[3], 5, bad, 6).unwrap();
        state = state.attest(&consortium, &nodes[0], 5, good, 6).unwrap();
        state = state.attest(&consortium, &nodes[1], 5, good, 7).unwrap();
        assert_eq!(state.certified, None, "2 of 4 is not a majority");
        assert!(state.diverged.is_empty());
        state = state.attest(&consortium, &nodes[2], 5, good, 7).unwrap();
        assert_eq!(state.certified, Some(Certified { height: 5, root: good }));
        assert_eq!(state.diverged.keys().collect::<Vec<_>>(), vec![&nodes[3]]);
        // A late false vote at a certified height is judged at once.
        state = state.attest(&consortium, &nodes[0], 6, good, 8).unwrap();
        state = state.attest(&consortium, &nodes[1], 6, good, 8).unwrap();
        state = state.attest(&consortium, &nodes[2], 6, bad, 8).unwrap();
        state = state.attest(&consortium, &nodes[3], 6, good, 8).unwrap();
        assert_eq!(state.certified_at(6), Some(good), "the fourth vote made three");
        assert_eq!(state.diverged.keys().collect::<Vec<_>>(), vec![&nodes[2]], "3 matched at 6");
    }

    #[test]
    fn a_matching_vote_at_a_higher_certified_height_clears_a_divergence() {
        let (consortium, nodes) = consortium(3);
        let (good, bad) = (Hash::of(b"good"), Hash::of(b"bad"));
        let mut state = Attestations::default();
        for (node, root) in [(0, good), (1, good), (2, bad)] {
            state = state.attest(&consortium, &nodes[node], 1, root, 2).unwrap();
        }
        assert_eq!(state.diverged[&nodes[2]].height, 1);
        for node in [2, 0] {
            state = state.attest(&consortium, &nodes[node], 3, good, 4).unwrap();
        }
        assert_eq!(state.certified, Some(Certified { height: 3, root: good }));
        assert!(state.diverged.is_empty(), "the repaired member matched at height 3");
        // A lower height certified later moves neither the latest nor the judgement back.
        state = state.attest(&consortium, &nodes[2], 2, bad, 5).unwrap();
        state = state.attest(&consortium, &nodes[0], 2, good, 5).unwrap();
        state = state.attest(&consortium, &nodes[1], 2, good, 5).unwrap();
        assert_eq!(state.certified_at(2), Some(good));
        assert_eq!(state.certified, Some(Certified { height: 3, root: good }));
        assert!(state.diverged.is_empty(), "a judgement at 2 does not undo the match at 3");
    }

    #[test]
    fn a_node_removed_after_voting_is_neither_counted_nor_judged() {
        let (mut consortium, nodes) = consortium(4);
        let (good, bad) = (Hash::of(b"good"), Hash::of(b"bad"));
        let mut state = Attestations::default();
        state = state.attest(&consortium, &nodes[3], 1, bad, 2).unwrap();
        state = state.attest(&consortium, &nodes[2], 1, bad, 2).unwrap();
        consortium.members.remove(&nodes[3]);
        state = state.attest(&consortium, &nodes[0], 1, good, 3).unwrap();
        assert_eq!(state.certified, None, "2 of 3 needed; the removed node's bad vote is moot");
        state = state.attest(&consortium, &nodes[1], 1, good, 3).unwrap();
        assert_eq!(state.certified_at(1), Some(good));
        assert_eq!(state.diverged.keys().collect::<Vec<_>>(), vec![&nodes[2]]);
    }

    #[test]
    fn outsiders_repeats_and_heights_outside_the_window_are_refused() {
        let (consortium, nodes) = consortium(3);
        let outsider = Keypair::derived("attest-outsider", 0).account();
        let root = Hash::of(b"r");
        let state = Attestations::default();
        assert!(matches!(
            state.attest(&consortium, &outsider, 1, root, 2),
            Err(ConsortiumError::NotAMember { .. })
        ));
        for (height, checkpoint) in [(2, 2), (3, 2), (1, 2 + ATTESTATION_WINDOW)] {
            assert!(matches!(
                state.attest(&consortium, &nodes[0], height, root, checkpoint),
                Err(ConsortiumError::AttestationHeight { .. })
            ));
        }
        let once = state.attest(&consortium, &nodes[0], 1, root, 1 + ATTESTATION_WINDOW).unwrap();
        assert!(matches!(
            once.attest(&consortium, &nodes[0], 1, root, 3),
            Err(ConsortiumError::AlreadyAttested { .. })
        ));
    }

    #[test]
    fn open_heights_stay_within_the_window() {
        let (consortium, nodes) = consortium(3);
        let mut state = Attestations::default();
        for height in 1..200u64 {
            let root = Hash::of(&height.to_le_bytes());
            state = state.attest(&consortium, &nodes[0], height, root, height + 1).unwrap();
            assert!(state.heights.len() as u64 <= ATTESTATION_WINDOW + 1);
        }
        assert_eq!(state.certified, None, "one member of three certifies nothing");
    }

    #[test]
    fn a_certificate_lets_only_the_derived_attestation_account_vote_for_its_member() {
        let node = Keypair::derived("attest", 0);
        let attester = attestation_key(&node);
        assert_ne!(attester.account(), node.account(), "its own account, its own nonces");
        assert_eq!(attester.account(), attestation_key(&node).account(), "recreated at start");
        let certificate = AttestationCertificate::issue(&node);
        assert_eq!(
            AttestationCertificate::voter(Some(&certificate), &attester.account()).unwrap(),
            node.account()
        );
        assert_eq!(AttestationCertificate::voter(None, &node.account()).unwrap(), node.account());
        // Another account cannot borrow the certificate, nor forge one for another member.
        let other = Keypair::derived("attest", 1);
        assert!(matches!(
            AttestationCertificate::voter(Some(&certificate), &other.account()),
            Err(ConsortiumError::BadAttestationCertificate { .. })
        ));
        let forged = AttestationCertificate { member: other.account(), ..certificate };
        assert!(matches!(
            AttestationCertificate::voter(Some(&forged), &attester.account()),
            Err(ConsortiumError::BadAttestationCertificate { .. })
        ));
    }
}
