//! What a scenario does, in words: the story, the metric and the reference formula.

use std::fmt::Write as _;

use crate::scenario::{MetricName, ReferenceName, Scenario};

/// The text of `vein-scenarios explain FILE`.
pub fn explain(scenario: &Scenario) -> String {
    let network = &scenario.network;
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}", scenario.name, scenario.description);
    let _ = writeln!(
        out,
        "network: {} honest nodes x {} nonces, latency {} ms (+ jitter < latency/2), \
         T = {} ms, k = {}, c = {}, retarget {}",
        network.nodes,
        network.nonces_per_node,
        network.latency_ms,
        network.target_interval_ms,
        network.finality_depth,
        network.challenge_refresh,
        if network.retarget { "on" } else { "off" },
    );
    let _ = writeln!(
        out,
        "run: {} s simulated per seed, {} seeds from {}; workload {} tx/s",
        scenario.run.duration_s,
        scenario.run.seeds,
        scenario.run.first_seed,
        scenario.workload.tx_per_s
    );
    let story = match scenario.metric.name {
        MetricName::CheckpointInterval => {
            "Honest nodes mine; the settled chain's intervals are cut into blocks of 100.\n\
             metric: checkpoint_interval_s (mean), interval_cv (per block), capacity_bytes \
             (per block, (n-1)/sum(interval*base_target/2^64) nonces x 256 KiB).\n\
             reference: mean = T; CV = 1 (exponential intervals); capacity = configured \
             space, i.e. 2^82/(T*base_target) bytes."
        }
        MetricName::WinShare => {
            "Node 0 holds share s of the space (with attacker.split = m: nodes 0..m share it \
             evenly, one owner's identities), the others split the rest.\n\
             metric: win_share = checkpoints of node 0 on the settled chain / all (Wilson CI).\n\
             reference: s (the minimum of exponential deadlines falls to i with probability \
             r_i / sum r)."
        }
        MetricName::DoubleSpendSuccess => {
            "After a short common history the attacker (share q) partitions itself off, pays \
             the merchant (node 0) on the honest side and spends the same nonce privately, \
             mining alone at fixed difficulty. The merchant accepts when the payment's \
             checkpoint plus later ones make z. The attacker releases its branch the moment \
             it is strictly longer after acceptance; it gives up when give_up_behind behind.\n\
             metric: double_spend_success = merchant's node ends with the payment not applied \
             and the conflicting spend applied (one trial per seed, Wilson CI).\n\
             reference (judged): strictly heavier race, P = 1 - sum_{m=0}^{z} C(m+z-1,m) \
             (p^z q^m - q^{z+1} p^{m-1}) (Rosenfeld's negative-binomial race with deficit \
             z-m+1: vein keeps the first-seen head on equal weight). Rosenfeld (tie wins) \
             and Nakamoto (Poisson) are shown, not judged."
        }
        MetricName::SelfishRevenue => {
            "The attacker (share q) runs the node with Policy::Withhold and releases by the \
             Eyal-Sirer rules (lead 1 -> tie race, lead 2 -> publish all, more -> match).\n\
             metric: selfish_revenue = attacker's share of the settled chain (blocks of 100).\n\
             reference (judged): Eyal-Sirer's cycle accounting with g = 0 (first-seen ties, \
             release after the honest checkpoint propagated) and deadline credit: after a \
             publish-all the honest miners forge at once on the old private head with \
             probability 1 - E[exp(-b e)], so R = A / (A + 1 - a + 2ab^2 + a^2/2), \
             A = a^2(2b + 2 + a/(b-a)), b = 1 - a (docs/scenarios.md, family 6). Eyal-Sirer \
             R = [a(1-a)^2(4a) - a^3] / [1 - a(1+(2-a)a)], honest share q and threshold 1/3 \
             shown."
        }
        MetricName::TipCount => {
            "Transfers arrive at total rate lambda; each selects its parents (uniform tip \
             selection) on a random node's view and reaches every node, its issuer included, \
             h = latency_ms later. Node 0's tip count is sampled every 100 ms after a 10% \
             warm-up (10 s block means).\n\
             metric: tip_count.\n\
             reference: L = 2*lambda*h (IOTA whitepaper; first order: the model's exact mean \
             is about 0.25 tip higher)."
        }
        MetricName::ConflictSpam => {
            "An attacker account signs `rate` pairs per second of two transfers spending one \
             nonce, gives one to its node and the other to a random honest node; honest \
             wallets transfer at tx_per_s. Each seed runs twice on one genesis and workload: \
             attacker silent, then spamming.\n\
             metric: conflicts_applied_at_most_once (settled pairs, never both spends \
             applied; conflicts_applied_none, pairs the nonce window refused whole, is shown), \
             honest_confirmed (honest transfers applied), honest_latency_increase_s (paired \
             latency difference, blocks of 20 transfers).\n\
             reference: 1, 1 and 0 (White Flag applies one spend per nonce at most; spam leaves \
             honest transfers alone)."
        }
        MetricName::GrindShare => {
            "Node 0 holds share s and runs Policy::Grind: each checkpoint it wins is forged in \
             g versions (timestamps, parent sets) and it publishes the one after which its own \
             next deadline is smallest.\n\
             metric: grind_share (node 0's share of the settled chain, Wilson CI) and \
             grind_one_signature (version sets leading to one next generation signature).\n\
             reference: s and 1 (g_h = H(g_{h-1} || winner) holds no content); \
             s/(s+(1-s)^g), the share if content entered the signature, is shown."
        }
        MetricName::SplitRevert => {
            "After one checkpoint of common history the network splits for d T into side A \
             (nodes 0..n/2, share s, merchant on node 0) and side B (the rest, share 1-s). The \
             payer (last node, no space needed) pays the merchant on A and spends the same nonce \
             to a sink on B. The merchant delivers when the payment is z checkpoints deep on A. \
             Then the network heals (fixed difficulty; finality lifted to 4096).\n\
             metric: split_revert = delivered and the payment not applied at the end (one \
             trial per seed, Wilson CI); split_delivered = delivered.\n\
             reference: A ~ Poisson(s d), B ~ Poisson((1-s) d): P(revert) = sum_{a>=z} \
             P(A=a) [P(B>a) + (1-s) P(B=a)] (ties: first-seen heads, next checkpoint decides); \
             P(delivered) = P(Poisson(s d) >= z), at z = k+1 the chance one side finalises."
        }
        MetricName::LazyTips => {
            "A non-mining attacker issues `rate` transfers per second, each approving its own \
             previous transfer (a parasite chain) and an honest unit issued at least 30 s \
             earlier, never recent tips; honest wallets transfer at tx_per_s. Each seed runs \
             twice on one genesis and workload: attacker silent, then lazy.\n\
             metric: lazy_honest_confirmed (honest transfers applied), \
             lazy_honest_latency_increase_s (paired, lazy minus silent, blocks of 20), \
             lazy_confirmed and lazy_latency_s (the lazy units themselves) and \
             lazy_run_honest_latency_s (shown, not judged).\n\
             reference: 1 and 0 (a lazy issuer cannot slow honest transfers)."
        }
        MetricName::ForkGrowth => {
            "The attacker (share q, split evenly over attacker.split = m identities) mines \
             privately from genesis with Policy::ExtendAllForks: each identity forges on every \
             checkpoint it knows at its deadline for that checkpoint's successor (forks whose \
             successors share a challenge: only the earliest). Fixed difficulty; each seed runs \
             8 independent races of run.duration_s.\n\
             metric: fork_private_height (deepest private branch at the end, mean) and \
             fork_catch_up (races whose private branch ends strictly above the honest chain).\n\
             reference: the challenge H(g || winner), refreshed every c, depends on a fork only \
             through the author of each window's last checkpoint, so distinct challenges form a \
             branching random walk (per window: c-1 fastest steps, then m children at \
             Exp(lambda/m)). Judged: its exact finite-time depth distribution (integral \
             recursion) and P(depth > Poisson honest height). Shown: one chain lambda*t and the \
             asymptotic growth G(m,c)*lambda*t, G = c/(lambda*gamma) by Biggins' theorem: G = 1 \
             for one identity, -> e at c = 1 and 1.47 at c = 16 as m grows (Chia green paper)."
        }
        MetricName::FakeSpaceShare => {
            "One extra node stores no plot (capacity 0) and runs Policy::OnTheFly: once it knows \
             a challenge it computes R = nonces_per_s nonces per second and forges at the \
             earliest moment one allows, max(nonce computed, its deadline). Fixed difficulty.\n\
             metric: fake_space_share = its fraction of the settled chain (Wilson CI).\n\
             reference: with kappa = R*T_h/N_h (nonces computed per mean honest interval over \
             honest nonces), the earliest publish time X has P(X > x) = exp(-R*rho*x^2) and \
             races the honest Exp deadline: P = 1 - sqrt(pi)*s*e^(s^2)*erfc(s), s = \
             1/(2 sqrt(kappa)), about 2*kappa for small kappa. The stored-plot reading of \
             PROTOCOL.md's virtual space R*W with W = T_h, kappa/(1+kappa), is shown."
        }
        MetricName::PlotSharing => {
            "Real plots (PocMode::Real, PoC2 plots built by the core's plot builder). The honest \
             miners hold their own plots; the owner holds one plot sized for share s of the real \
             space; attacker.split - 1 more identities store nothing and read the owner's plot \
             (the same bytes). They run Policy::PublishRefused: each forges a checkpoint signed \
             with its own key over the owner's best proof and publishes it to every peer even \
             though its own validation refuses it.\n\
             metric: plot_sharing_share = fraction of node 0's settled chain authored by the \
             group (Wilson CI); shared_proof_refused = fraction of the identities' checkpoint \
             deliveries to honest miners refused as checkpoint_plot_of_another_account.\n\
             reference: share = s (a proof is bound to its plot's account; the identities would \
             only repeat the owner's deadline anyway); refused = 1. A delivery not refused, or \
             an identity's checkpoint on an honest chain, is the violation shared-plot-accepted."
        }
        MetricName::StorageDetection | MetricName::ShardLoss => crate::storage::story(scenario),
    };
    let _ = writeln!(out, "{story}");
    let judged = match scenario.metric.reference {
        ReferenceName::TargetInterval => "target-interval",
        other => other.name(),
    };
    let _ = writeln!(out, "judged reference: {judged}");
    if !scenario.sweep.is_empty() {
        let grid: Vec<String> = scenario.sweep.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(out, "default sweep: {}", grid.join(" "));
    }
    out
}
