//! `erc20-load`'s settling: receipts fetched until every transfer is final, and resends of
//! refused, lost or silent transfers (`erc20_load`'s module comment, "Resends").

use super::*;

/// How transfers are resent while settling (see the module comment, "Resends").
pub(super) struct ResendPolicy<'a> {
    pub(super) nodes: &'a [NodeEntry],
    /// Most sends beyond the first, per transfer.
    pub(super) resends: u32,
    /// How long an accepted transfer may go without a receipt before it is sent again.
    pub(super) after: Duration,
}

/// Sends beyond the first made while settling.
#[derive(Default)]
pub(super) struct ResendCounts {
    pub(super) resent: u64,
    pub(super) accepted_on_resend: u64,
}

/// Fetch receipts (node `api`) until every transfer is accepted and has a receipt at a final
/// height or `deadline` passes, resending by `policy` meanwhile.
pub(super) fn settle(
    api: SocketAddr,
    signed: &[Signed],
    (sent, refused): (&mut Vec<Sent>, &mut Vec<Refused>),
    monitor: &FinalMonitor,
    deadline: Instant,
    policy: &ResendPolicy<'_>,
) -> ResendCounts {
    let mut counts = ResendCounts::default();
    let mut printed = Instant::now();
    let mut round = 0usize;
    loop {
        fetch_receipts(api, signed, sent);
        resend_due(signed, (sent, refused), policy, &mut round, &mut counts);
        let final_height = monitor.final_height().unwrap_or(0);
        let finals = sent
            .iter()
            .filter(|item| item.receipt.is_some_and(|(height, _, _)| height <= final_height))
            .count();
        let retrying = refused.iter().any(|item| item.resends < policy.resends);
        if (finals == sent.len() && !retrying) || Instant::now() >= deadline {
            return counts;
        }
        if printed.elapsed() >= PROGRESS_EVERY {
            printed = Instant::now();
            eprintln!(
                "[erc20-load] settling: {} receipts, {finals} final of {} accepted, {} not \
                 accepted, {} resent, {} s left",
                sent.iter().filter(|item| item.receipt.is_some()).count(),
                sent.len(),
                refused.len(),
                counts.resent,
                deadline.saturating_duration_since(Instant::now()).as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Ask node `api` for the receipts `sent` does not have yet.
fn fetch_receipts(api: SocketAddr, signed: &[Signed], sent: &mut [Sent]) {
    let missing: Vec<usize> =
        (0..sent.len()).filter(|slot| sent[*slot].receipt.is_none()).collect();
    for chunk in missing.chunks(RECEIPT_BATCH) {
        let params =
            chunk.iter().map(|slot| vec![Value::from(signed[sent[*slot].index].hash.clone())]);
        let Ok(answers) = batch(api, "eth_getTransactionReceipt", params.collect()) else {
            continue;
        };
        for (slot, answer) in chunk.iter().zip(answers) {
            let Ok(value) = answer else { continue };
            let Ok(Some(receipt)) = serde_json::from_value::<Option<Receipt>>(value) else {
                continue;
            };
            let quantity = |text: &str| vein_sdk::eth::quantity(text).unwrap_or(0);
            sent[*slot].receipt = Some((
                quantity(&receipt.block_number),
                receipt.status == "0x1",
                quantity(&receipt.gas_used),
            ));
        }
    }
}

/// Send again what is due by `policy`, in index order (each sender's nonces in order): the
/// refused transfers with resends left, at most every `RESEND_BACKOFF`, and the accepted ones
/// without a receipt `policy.after` after their last send. A refused one a node accepts (or
/// answers "nonce too low": it was already in) moves to `sent`.
fn resend_due(
    signed: &[Signed],
    (sent, refused): (&mut Vec<Sent>, &mut Vec<Refused>),
    policy: &ResendPolicy<'_>,
    round: &mut usize,
    counts: &mut ResendCounts,
) {
    let due = due_for_resend(sent, refused, now_ms(), policy.resends, policy.after);
    if due.is_empty() || policy.nodes.is_empty() {
        return;
    }
    let mut taken = Vec::new();
    for chunk in due.chunks(RESEND_BATCH) {
        let node = &policy.nodes[*round % policy.nodes.len()];
        *round += 1;
        let params = chunk.iter().map(|(index, _)| vec![Value::from(signed[*index].raw.clone())]);
        let sent_ms = now_ms();
        let answers = batch(node.api, "eth_sendRawTransaction", params.collect())
            .unwrap_or_else(|error| vec![Err(error.to_string()); chunk.len()]);
        for ((_, slot), answer) in chunk.iter().zip(answers) {
            counts.resent += 1;
            let in_node =
                answer.as_ref().map_or_else(|why| why.contains("nonce too low"), |_| true);
            match *slot {
                Ok(slot) => {
                    sent[slot].resends += 1;
                    sent[slot].last_sent_ms = sent_ms;
                }
                Err(slot) => {
                    refused[slot].resends += 1;
                    refused[slot].last_sent_ms = sent_ms;
                    if in_node {
                        taken.push(slot);
                    }
                }
            }
        }
    }
    // Highest slot first, so the lower slots still name their transfers.
    taken.sort_unstable_by(|a, b| b.cmp(a));
    for slot in taken {
        let item = refused.swap_remove(slot);
        counts.accepted_on_resend += 1;
        sent.push(Sent {
            index: item.index,
            submitted_ms: item.submitted_ms,
            receipt: None,
            last_sent_ms: item.last_sent_ms,
            resends: item.resends,
        });
    }
}

/// What is due to be sent again at `now` (Unix ms), in transfer index order: each as its index
/// and its slot, `Err` in `refused` (resends left, last sent `RESEND_BACKOFF` ago or more) or
/// `Ok` in `sent` (no receipt, resends left, last sent `after` ago or more).
fn due_for_resend(
    sent: &[Sent],
    refused: &[Refused],
    now: u64,
    resends: u32,
    after: Duration,
) -> Vec<(usize, Result<usize, usize>)> {
    let backoff = RESEND_BACKOFF.as_millis() as u64;
    let after = after.as_millis() as u64;
    let mut due: Vec<(usize, Result<usize, usize>)> = refused
        .iter()
        .enumerate()
        .filter(|(_, item)| item.resends < resends)
        .filter(|(_, item)| now.saturating_sub(item.last_sent_ms) >= backoff)
        .map(|(slot, item)| (item.index, Err(slot)))
        .collect();
    due.extend(
        sent.iter()
            .enumerate()
            .filter(|(_, item)| item.receipt.is_none() && item.resends < resends)
            .filter(|(_, item)| now.saturating_sub(item.last_sent_ms) >= after)
            .map(|(slot, item)| (item.index, Ok(slot))),
    );
    due.sort_unstable();
    due
}

/// Accepted transfers without a receipt behind an earlier transfer of their sender (transfer
/// `t` is sender `t mod senders`'s) that has none either.
pub(super) fn stranded(sent: &[Sent], refused: &[Refused], senders: usize) -> u64 {
    let mut first_gap: BTreeMap<usize, usize> = BTreeMap::new();
    let without_receipt = sent
        .iter()
        .filter(|item| item.receipt.is_none())
        .map(|item| item.index)
        .chain(refused.iter().map(|item| item.index));
    for index in without_receipt {
        let gap = first_gap.entry(index % senders.max(1)).or_insert(index);
        *gap = (*gap).min(index);
    }
    let behind =
        |index: usize| first_gap.get(&(index % senders.max(1))).is_some_and(|gap| *gap < index);
    sent.iter().filter(|item| item.receipt.is_none() && behind(item.index)).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(index: usize, last_sent_ms: u64, receipt: bool, resends: u32) -> Sent {
        let receipt = receipt.then_some((1, true, 35_000));
        Sent { index, submitted_ms: 0, receipt, last_sent_ms, resends }
    }

    fn refused(index: usize, last_sent_ms: u64, resends: u32) -> Refused {
        Refused { index, submitted_ms: 0, last_sent_ms, resends }
    }

    #[test]
    fn refused_transfers_and_silent_accepted_ones_are_resent_in_index_order_within_bounds() {
        let after = Duration::from_secs(10);
        let sent = [
            sent(4, 0, false, 0),      // silent for 20 s: due
            sent(1, 0, true, 0),       // has its receipt
            sent(6, 15_000, false, 0), // sent again 5 s ago: not yet
            sent(9, 0, false, 3),      // no resends left
        ];
        let refused = [
            refused(3, 19_500, 1), // refused 0.5 s ago: backoff
            refused(2, 18_000, 2), // due
            refused(8, 0, 3),      // no resends left
        ];
        let due = due_for_resend(&sent, &refused, 20_000, 3, after);
        assert_eq!(due, vec![(2, Err(1)), (4, Ok(0))]);
        assert!(due_for_resend(&sent, &refused, 20_000, 0, after).is_empty());
    }

    #[test]
    fn stranded_counts_accepted_transfers_behind_a_gap_of_their_sender() {
        // Two senders: transfer t is sender t mod 2's. Sender 0 lost transfer 2 (never
        // accepted): 4 and 6 wait behind it. Sender 1's 5 has no receipt but nothing before
        // it is missing: slow, not stranded.
        let sent = [
            sent(0, 0, true, 0),
            sent(1, 0, true, 0),
            sent(3, 0, true, 0),
            sent(4, 0, false, 0),
            sent(5, 0, false, 0),
            sent(6, 0, false, 0),
        ];
        let refused = [refused(2, 0, 3)];
        assert_eq!(stranded(&sent, &refused, 2), 2);
        assert_eq!(stranded(&sent, &[], 2), 1, "6 behind 4");
    }
}
