//! Attacker policies. An attacker is this same core with another [`Policy`], never a fork of the
//! honest code: each file here holds one policy's behaviour as methods on `Node`, called from
//! the one place where that policy departs from the honest path. `Honest` has no file; it is
//! the default path everywhere.
//!
//! - `withhold`: own checkpoints kept private until the driver releases them (selfish mining).
//! - `selfish_release`: the rule that releases them, shared by every engine.
//! - `name`: policies by name (`--policy NAME[:PARAMETER]`).
//! - `grind`: each own checkpoint forged in several versions, the best for the next round kept.
//! - `on_the_fly`: no plot; nonces computed after the challenge is known (fake space).
//! - `extend_all_forks`: a forge on every known checkpoint (nothing at stake).
//! - `publish_refused`: own checkpoints this node refuses published anyway (plot sharing).

mod extend_all_forks;
mod grind;
mod name;
mod on_the_fly;
mod publish_refused;
mod selfish_release;
mod withhold;

pub use name::{POLICY_NAMES, PolicyNameError};
pub use selfish_release::{SelfishRelease, WithholdView};

/// How a node treats its own checkpoints. Attackers are this same core with another policy,
/// never a fork of the honest code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Policy {
    /// Relay own checkpoints at once and announce the head.
    #[default]
    Honest,
    /// Keep own checkpoints private (no relay, no head announcement) until the driver releases
    /// them with [`Node::release_message`](super::Node::release_message); fork choice is
    /// unchanged, so the node mines on its private branch while that is at least as heavy as
    /// anything it has seen (first-seen ties).
    Withhold,
    /// Challenge grinding (PROTOCOL.md §7 #5): forge each own checkpoint in `variants` versions
    /// (different timestamps and parent sets, so different content and ids) and publish the one
    /// after which this node's own next deadline is smallest. Needs model proofs, whose
    /// deadlines the node can compute itself; with real plots it publishes the first version.
    Grind {
        /// Versions forged per own checkpoint.
        variants: u8,
    },
    /// Fake space (PROTOCOL.md §7 #7): store no plot; once a challenge is known, compute
    /// `nonces_per_s` nonces per second of this node's account and forge at the earliest time
    /// one of them allows (`poc::on_the_fly`: not before the nonce is computed, not before its
    /// deadline). Model networks only: the proof is `PocProof::ModelNonce`, and the node must
    /// be registered in genesis (capacity 0 is fine) and have `mining` on.
    OnTheFly {
        /// Nonces computed per second of local time (the simulated hashing speed).
        nonces_per_s: u64,
    },
    /// Extend all forks (PROTOCOL.md §7 #4, double dipping, "nothing at stake"): forge on every
    /// checkpoint this node knows, not only on its fork-choice head, each at its own deadline
    /// for that checkpoint's successor challenge. Two checkpoints whose successors answer the
    /// same challenge (height and generation signature) give this node the same deadline, so it
    /// forges only on the one allowing the earliest time: the later child would open the same
    /// lotteries, later. Model networks only (the node computes its own deadlines), like
    /// [`Policy::Grind`].
    ExtendAllForks,
    /// Plot sharing (PROTOCOL.md §7 #8): an identity claiming a plot bound to another account
    /// (the driver hands it that plot's proofs). It forges as an honest node would; when its
    /// own validation refuses the checkpoint (`PlotOfAnotherAccount`), it publishes it to every
    /// peer anyway, so that the honest nodes have to judge it.
    PublishRefused,
}
