//! The one interface both proof back-ends implement: given a challenge, the best proof and its
//! deadline. The node's mining loop is written once against [`Prover`]; the testnet plugs in
//! [`PlotSet`] over files, the simulator [`ModelPlots`].

use std::io::{Read, Seek};

use crate::core::crypto::AccountId;
use crate::core::poc::challenge::Challenge;
use crate::core::poc::model::model_deadline_ms;
use crate::core::poc::plot_file::PlotReader;
use crate::core::poc::proof::{PocError, PocProof};

/// A proof back-end: finds this miner's best answer to a challenge.
pub trait Prover {
    /// The smallest deadline this miner can prove for `challenge`, or `None` without space.
    fn best(&mut self, challenge: &Challenge) -> Result<Option<(PocProof, u64)>, PocError>;
}

/// A model miner: `nonces` of virtual capacity (registered in genesis), no disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelPlots {
    /// The miner's account (keys its model hits).
    pub account: AccountId,
    /// Virtual capacity in nonces; must equal the genesis registration (0: no proofs).
    pub nonces: u64,
}

impl Prover for ModelPlots {
    fn best(&mut self, challenge: &Challenge) -> Result<Option<(PocProof, u64)>, PocError> {
        if self.nonces == 0 {
            return Ok(None);
        }
        let deadline = model_deadline_ms(&self.account, self.nonces, challenge);
        Ok(Some((PocProof::Model { nonces: self.nonces }, deadline)))
    }
}

/// A real miner: several plots (already opened and validated by the caller). Plots of other
/// accounts may be present (a miner holding several identities), but the caller signs with the
/// proof's `plot_account`, or verification fails with `PlotOfAnotherAccount`.
#[derive(Debug)]
pub struct PlotSet<R> {
    /// The opened plots, searched in order (ties keep the earlier plot's proof).
    pub plots: Vec<PlotReader<R>>,
}

impl<R: Read + Seek> PlotSet<R> {
    /// A set over already opened plots.
    pub fn new(plots: Vec<PlotReader<R>>) -> PlotSet<R> {
        PlotSet { plots }
    }

    /// Total nonces across plots (overlapping plots count twice: they add no real chance).
    pub fn total_nonces(&self) -> u64 {
        self.plots.iter().map(|plot| plot.header().nonce_count).sum()
    }
}

impl<R: Read + Seek> Prover for PlotSet<R> {
    fn best(&mut self, challenge: &Challenge) -> Result<Option<(PocProof, u64)>, PocError> {
        let mut best: Option<(PocProof, u64)> = None;
        for plot in &mut self.plots {
            if let Some((proof, deadline)) = plot.best_deadline(challenge)?
                && best.as_ref().is_none_or(|(_, best_deadline)| deadline < *best_deadline)
            {
                best = Some((proof, deadline));
            }
        }
        Ok(best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::crypto::Keypair;
    use crate::core::hash::Hash;
    use crate::core::poc::plot_file::build_plot_in_memory;
    use crate::core::poc::proof::{PocMode, verify_proof};
    use std::io::Cursor;

    #[test]
    fn plot_set_takes_the_best_of_its_plots() {
        let alice = Keypair::derived("prover", 1).account();
        let plots: Vec<PlotReader<Cursor<Vec<u8>>>> = [(0u64, 3u64), (3, 5)]
            .iter()
            .map(|&(start, count)| {
                PlotReader::open(Cursor::new(build_plot_in_memory(&alice, start, count)))
                    .expect("plot")
            })
            .collect();
        let mut set = PlotSet::new(plots);
        assert_eq!(set.total_nonces(), 8);
        let challenge =
            Challenge { height: 1, generation_signature: Hash::of(b"x"), base_target: 99 };
        let (proof, deadline) = set.best(&challenge).expect("read").expect("some");
        let mut each: Vec<u64> = set
            .plots
            .iter_mut()
            .map(|plot| plot.best_deadline(&challenge).expect("read").expect("some").1)
            .collect();
        each.sort_unstable();
        assert_eq!(deadline, each[0]);
        assert_eq!(verify_proof(&PocMode::Real, &alice, &challenge, &proof).ok(), Some(deadline));
    }

    #[test]
    fn model_plots_without_space_never_win() {
        let account = Keypair::derived("prover", 2).account();
        let challenge =
            Challenge { height: 1, generation_signature: Hash::of(b"x"), base_target: 9 };
        assert!(ModelPlots { account, nonces: 0 }.best(&challenge).expect("model").is_none());
        let (proof, _) =
            ModelPlots { account, nonces: 4 }.best(&challenge).expect("ok").expect("s");
        assert_eq!(proof, PocProof::Model { nonces: 4 });
    }
}
