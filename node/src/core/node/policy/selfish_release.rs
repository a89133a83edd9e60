//! The selfish-mining release rule (Eyal–Sirer with γ = 0) a [`Policy::Withhold`] node's
//! private branch is published by: one rule for every engine. The scenario engines (LocalNet,
//! madsim) feed it the honest nodes' view of the public chain; a real process feeds it its own
//! view ([`Node::release_by_rule`](crate::core::node::Node::release_by_rule)), the highest
//! checkpoint its peers sent.
//!
//! With Δ = private − public height before an honest checkpoint: Δ = 1 → publish the private
//! checkpoint (a tie race); Δ = 2 → publish everything (the private branch wins); Δ > 2 →
//! publish up to the public height. A checkpoint found during a tie race is published at once.
//! Adopting the public chain needs no rule: the withholding core switches to any strictly
//! heavier branch by ordinary fork choice.
//!
//! [`Policy::Withhold`]: crate::core::node::Policy::Withhold

use std::ops::RangeInclusive;

/// What the rule looks at after each step of the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WithholdView {
    /// Height of the public chain (the honest nodes' head).
    pub public_height: u64,
    /// Height of the attacker's chain (its head, private or not).
    pub private_height: u64,
    /// Checkpoints the attacker has forged and accepted so far.
    pub checkpoints_won: u64,
    /// Whether the public head is not the attacker's head (the attacker is on its own branch).
    pub heads_differ: bool,
}

/// The rule's memory between two views.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelfishRelease {
    public_height: u64,
    private_height: u64,
    checkpoints_won: u64,
    released_height: u64,
    tie: bool,
}

impl SelfishRelease {
    /// A rule starting from `view`, nothing released yet.
    pub fn new(view: WithholdView) -> SelfishRelease {
        SelfishRelease {
            public_height: view.public_height,
            private_height: view.private_height,
            checkpoints_won: view.checkpoints_won,
            released_height: 0,
            tie: false,
        }
    }

    /// The highest height released so far (0: none, or the branch was abandoned).
    pub fn released_height(&self) -> u64 {
        self.released_height
    }

    /// Take the next view; returns the heights of the attacker's active chain to publish now,
    /// in order, if any.
    pub fn observe(&mut self, view: WithholdView) -> Option<RangeInclusive<u64>> {
        let WithholdView { public_height, private_height, checkpoints_won, heads_differ } = view;
        let mut release = None;
        if checkpoints_won > self.checkpoints_won && self.tie && private_height > public_height {
            // Found during a tie race: publish, the private branch is now strictly heavier.
            release = Some(self.released_height + 1..=private_height);
            self.released_height = private_height;
            self.tie = false;
        } else if public_height > self.public_height {
            let lead_before = self.private_height as i64 - self.public_height as i64;
            self.tie = false;
            if heads_differ && lead_before >= 1 {
                let upto = if lead_before <= 2 { private_height } else { public_height };
                let from = self.released_height.max(self.public_height) + 1;
                release = Some(from..=upto);
                self.released_height = self.released_height.max(upto);
                self.tie = lead_before == 1;
            }
        }
        if private_height < self.released_height {
            // The attacker adopted the public chain: nothing of its own is pending.
            self.released_height = private_height;
        }
        self.public_height = public_height;
        self.private_height = private_height;
        self.checkpoints_won = checkpoints_won;
        debug_assert!(self.released_height <= self.private_height);
        release
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(public_height: u64, private_height: u64, checkpoints_won: u64) -> WithholdView {
        WithholdView { public_height, private_height, checkpoints_won, heads_differ: true }
    }

    #[test]
    fn a_lead_of_two_is_published_whole_when_the_public_chain_moves() {
        let mut rule = SelfishRelease::new(view(5, 5, 0));
        assert_eq!(rule.observe(view(5, 6, 1)), None);
        assert_eq!(rule.observe(view(5, 7, 2)), None);
        assert_eq!(rule.observe(view(6, 7, 2)), Some(6..=7));
        assert_eq!(rule.released_height(), 7);
    }

    #[test]
    fn a_lead_of_one_races_and_a_find_during_the_race_is_published_at_once() {
        let mut rule = SelfishRelease::new(view(5, 5, 0));
        assert_eq!(rule.observe(view(5, 6, 1)), None);
        assert_eq!(rule.observe(view(6, 6, 1)), Some(6..=6));
        assert_eq!(rule.observe(view(6, 7, 2)), Some(7..=7));
    }

    #[test]
    fn a_long_lead_matches_the_public_height_only() {
        let mut rule = SelfishRelease::new(view(5, 5, 0));
        assert_eq!(rule.observe(view(5, 9, 4)), None);
        assert_eq!(rule.observe(view(6, 9, 4)), Some(6..=6));
        assert_eq!(rule.observe(view(7, 9, 4)), Some(7..=7));
        assert_eq!(rule.observe(view(8, 9, 4)), Some(8..=9));
    }

    #[test]
    fn without_a_lead_nothing_is_published() {
        let mut rule = SelfishRelease::new(view(5, 5, 0));
        assert_eq!(rule.observe(view(6, 6, 0)), None);
        assert_eq!(rule.observe(view(7, 7, 0)), None);
    }
}
