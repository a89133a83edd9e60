//! [`Policy::OnTheFly`] (PROTOCOL.md §7 #7, fake space): store no plot; once a challenge is
//! known, compute `nonces_per_s` nonces per second of this node's account and forge at the
//! earliest time one of them allows (`poc::on_the_fly`: not before the nonce is computed, not
//! before its deadline). Model networks only: the proof is `PocProof::ModelNonce`.

use crate::core::node::{Node, PendingForge};
use crate::core::poc::on_the_fly::OnTheFlySearch;
use crate::core::poc::{Challenge, PocProof};

impl Node {
    /// Start this round's nonce search for `challenge`: computed here, nonce by nonce on the
    /// node's clock; no prover is asked.
    pub(in crate::core::node) fn start_fly(&mut self, challenge: Challenge, nonces_per_s: u64) {
        let prev_timestamp_ms = self.chain.head().timestamp_ms;
        let search = OnTheFlySearch::new(
            self.account,
            challenge,
            prev_timestamp_ms,
            self.now_ms,
            nonces_per_s,
        );
        self.fly = Some((search, self.now_ms));
        self.advance_fly();
    }

    /// [`Policy::OnTheFly`]: compute the nonces finished within one target interval from now
    /// (computing ahead changes nothing: a nonce is used no earlier than it is finished), and
    /// once no later nonce can beat the best one, schedule its checkpoint.
    pub(in crate::core::node) fn advance_fly(&mut self) {
        let Some((search, wake)) = &mut self.fly else { return };
        if *wake > self.now_ms {
            return;
        }
        let lookahead = self.chain.params().target_interval_ms.max(1);
        match search.advance(self.now_ms.saturating_add(lookahead)) {
            Some(_) => *wake = self.now_ms.saturating_add(lookahead),
            None => {
                let search = search.clone();
                self.fly = None;
                let Some(best) = search.best else { return };
                let head = self.chain.head();
                if search.challenge != self.next_challenge() {
                    return;
                }
                self.forge = Some(PendingForge {
                    prev: head.id,
                    challenge: search.challenge,
                    proof: PocProof::ModelNonce { nonce_index: best.nonce_index },
                    deadline_ms: best.deadline_ms,
                    at_ms: best.publish_ms,
                });
            }
        }
    }
}
