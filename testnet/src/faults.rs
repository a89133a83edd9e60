//! Fault commands of `vein-testnet`: `partition`, `heal`, `delay`/`drop` on one link and
//! `fault` on whole nodes, each through the running nodes' `/control/*` routes (docs/testnet.md,
//! "Fault injection design"). Moved out of the crate root unchanged; the root re-exports them.

use crate::manifest::Manifest;
use crate::*;

/// Parse `0,1|2,3` into groups; nodes named nowhere form one more group.
pub fn parse_partition(spec: &str, count: usize) -> Result<Vec<Vec<usize>>, TestnetError> {
    let bad = |reason: String| TestnetError::BadPartition { spec: spec.into(), reason };
    let mut groups = Vec::new();
    let mut seen = vec![false; count];
    for part in spec.split('|') {
        let mut group = Vec::new();
        for item in part.split(',').map(str::trim).filter(|item| !item.is_empty()) {
            let index: usize = item.parse().map_err(|_| bad(format!("{item:?} is not a node")))?;
            if index >= count {
                return Err(bad(format!("node {index} does not exist (0..{count})")));
            }
            if std::mem::replace(&mut seen[index], true) {
                return Err(bad(format!("node {index} is in two groups")));
            }
            group.push(index);
        }
        if group.is_empty() {
            return Err(bad("empty group".into()));
        }
        groups.push(group);
    }
    if groups.len() < 2 {
        return Err(bad("need at least two groups".into()));
    }
    let rest: Vec<usize> = (0..count).filter(|index| !seen[*index]).collect();
    if !rest.is_empty() {
        groups.push(rest);
    }
    Ok(groups)
}

/// Nodes that are paused (their fault tables cannot be reached until they resume).
pub fn paused_nodes(manifest: &Manifest) -> Vec<usize> {
    manifest
        .nodes
        .iter()
        .filter(|node| node.paused && node.pid.is_some_and(|pid| is_alive(pid, node)))
        .map(|node| node.index)
        .collect()
}

/// Cut the net into groups: each running node drops traffic to and from the other groups.
pub fn partition(manifest: &Manifest, groups: &[Vec<usize>]) -> Result<(), TestnetError> {
    heal(manifest)?;
    let token = api_token::of_manifest(manifest)?;
    for node in running(manifest) {
        let Some(own) = groups.iter().find(|group| group.contains(&node.index)) else { continue };
        let blocked: Vec<String> = manifest
            .nodes
            .iter()
            .filter(|other| !own.contains(&other.index))
            .map(|other| other.listen.to_string())
            .collect();
        let body = api_types::PartitionRequest { peers: blocked };
        control(node.api, "/control/partition", &body, token.as_deref())?;
    }
    Ok(())
}

/// One `/control/*` request; the node answers the faults now in force.
fn control(
    api: SocketAddr,
    path: &str,
    body: &impl serde::Serialize,
    token: Option<&str>,
) -> Result<api_types::InjectedFaults, TestnetError> {
    let answer: api_types::ControlResponse = http::post_authorized(api, path, body, token)?;
    Ok(answer.faults)
}

/// Clear every injected fault on every running node.
pub fn heal(manifest: &Manifest) -> Result<(), TestnetError> {
    let token = api_token::of_manifest(manifest)?;
    for node in running(manifest) {
        control(node.api, "/control/heal", &api_types::EmptyRequest {}, token.as_deref())?;
    }
    Ok(())
}

/// Which one-way link fault to set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LinkFaultKind {
    /// Added delay in milliseconds.
    Delay {
        /// Delay added to every message on the link, in ms; at most [`FAULT_DELAY_MS_MAX`].
        ms: u64,
    },
    /// Share of messages dropped, in percent (0..=100; one decimal is kept).
    Loss {
        /// Percent of messages dropped, 0..=100; sent to the node as per mille, rounded.
        percent: f64,
    },
}

/// Set a fault on the one-way link `from` → `to`: node `from` delays or drops what it sends to
/// node `to`; the other direction is untouched. `heal` clears it.
pub fn link_fault(
    manifest: &Manifest,
    from: usize,
    to: usize,
    kind: LinkFaultKind,
) -> Result<(), TestnetError> {
    let sender = node_entry(manifest, from)?;
    let receiver = node_entry(manifest, to)?;
    if from == to {
        return Err(TestnetError::Invalid(format!("a link needs two nodes, got {from} twice")));
    }
    let body = match kind {
        LinkFaultKind::Delay { ms } => {
            if ms > 60_000 {
                return Err(bad_argument("ms", format!("must be at most {FAULT_DELAY_MS_MAX}")));
            }
            api_types::LinkRequest {
                peer: receiver.listen.to_string(),
                delay_ms: Some(ms),
                loss_per_mille: None,
            }
        }
        LinkFaultKind::Loss { percent } => {
            if !(0.0..=100.0).contains(&percent) {
                return Err(bad_argument("percent", "must be in 0..=100"));
            }
            let per_mille = (percent * 10.0).round() as u64;
            api_types::LinkRequest {
                peer: receiver.listen.to_string(),
                delay_ms: None,
                loss_per_mille: Some(per_mille),
            }
        }
    };
    if sender.paused {
        return Err(TestnetError::Paused { index: from });
    }
    if !sender.pid.is_some_and(|pid| is_alive(pid, sender)) {
        return Err(TestnetError::NotRunning { index: from });
    }
    let token = api_token::of_manifest(manifest)?;
    control(sender.api, "/control/link", &body, token.as_deref())?;
    Ok(())
}

/// Set delay and/or loss on the given nodes (all running nodes when `nodes` is empty). Every
/// argument and every named node is checked before the first node is changed, so a refused
/// command changes nothing; the node answers each setting whole (see `/control`).
pub fn fault(
    manifest: &Manifest,
    nodes: &[usize],
    delay_ms: Option<u64>,
    loss_per_mille: Option<u64>,
) -> Result<(), TestnetError> {
    if delay_ms.is_none() && loss_per_mille.is_none() {
        return Err(bad_argument("delay-ms", "and/or --loss-per-mille is needed"));
    }
    if delay_ms.is_some_and(|ms| ms > FAULT_DELAY_MS_MAX) {
        return Err(bad_argument("delay-ms", format!("must be at most {FAULT_DELAY_MS_MAX}")));
    }
    if loss_per_mille.is_some_and(|per_mille| per_mille > 1000) {
        return Err(bad_argument("loss-per-mille", "must be at most 1000"));
    }
    let targets: Vec<&NodeEntry> = if nodes.is_empty() {
        running(manifest).collect()
    } else {
        nodes.iter().map(|index| reachable(manifest, *index)).collect::<Result<_, _>>()?
    };
    let token = api_token::of_manifest(manifest)?;
    let token = token.as_deref();
    for node in targets {
        if let Some(ms) = delay_ms {
            control(node.api, "/control/delay", &api_types::DelayRequest { ms }, token)?;
        }
        if let Some(per_mille) = loss_per_mille {
            let body = api_types::LossRequest { per_mille };
            control(node.api, "/control/loss", &body, token)?;
        }
    }
    Ok(())
}

/// Largest delay `fault` and `delay` set (what a node's `/control` takes).
pub const FAULT_DELAY_MS_MAX: u64 = 60_000;
