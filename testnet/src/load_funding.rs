//! `load`'s funding: the faucet pays every load account (and `erc20-load`'s and `db load`'s
//! signers) what it lacks, and this waits until a checkpoint confirms it.

use super::*;

/// Make sure every load account holds at least half of [`LOAD_ACCOUNT_FUNDS`] on node `api`'s
/// confirmed ledger (a node admits a transfer only against confirmed funds), and for a token
/// load half of its token funds too: the faucet pays the short ones and this waits until a
/// checkpoint confirms it. Returns each account's next nonce and native balance, and whether
/// any funding was needed.
pub(super) fn fund_load_accounts(
    manifest: &Manifest,
    api: SocketAddr,
    keys: &[Keypair],
    (asset, timeout): (LoadAsset, Duration),
) -> Result<(Vec<api_types::AccountBalance>, bool), TestnetError> {
    let accounts: Vec<AccountId> = keys.iter().map(Keypair::account).collect();
    let mut funded = fund_accounts(manifest, api, &accounts, (LoadAsset::Native, timeout))?;
    if asset != LoadAsset::Native {
        funded |= fund_accounts(manifest, api, &accounts, (asset, timeout))?;
    }
    let stalled_until = Instant::now() + timeout;
    let states = accounts
        .iter()
        .map(|account| {
            retry_transport(stalled_until, STALL_RETRY_PAUSE, || account_state(api, account))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((states, funded))
}

/// Make sure every one of `accounts` holds at least half of `asset`'s funds
/// ([`LoadAsset::funds`]) on node `api`'s confirmed ledger: the faucet pays the short ones (at
/// most its nonce window, 1,024, at once) and this waits until a checkpoint confirms it.
/// Returns whether any funding was needed. Also funds the EVM senders of `erc20-load` (their
/// native accounts).
pub(crate) fn fund_accounts(
    manifest: &Manifest,
    api: SocketAddr,
    accounts: &[AccountId],
    (asset, timeout): (LoadAsset, Duration),
) -> Result<bool, TestnetError> {
    // Reads are asked again while the node does not answer in time (seen once in CI: a node's
    // API silent for over 10 s while the machine was flushing a build to disk), up to the
    // funding timeout; a refusal or a bad answer is still an error at once.
    let stalled_until = Instant::now() + timeout;
    let account_state = |account: &AccountId| {
        retry_transport(stalled_until, STALL_RETRY_PAUSE, || account_state(api, account))
    };
    // Which of `indices` still lack their funds.
    let short = |indices: &[usize]| -> Result<Vec<usize>, TestnetError> {
        let mut short = Vec::new();
        for index in indices {
            let balance = retry_transport(stalled_until, STALL_RETRY_PAUSE, || {
                asset.balance(api, &accounts[*index])
            })?;
            if balance < asset.funds() / 2 {
                short.push(*index);
            }
        }
        Ok(short)
    };
    let unfunded = short(&(0..accounts.len()).collect::<Vec<_>>())?;
    if !unfunded.is_empty() {
        let what = asset.token_text().map_or("native".into(), |token| format!("token {token}"));
        eprintln!(
            "funding {} load account(s) with {what} from the faucet (final after about k + 1 \
             checkpoints)",
            unfunded.len()
        );
        let faucet = read_key(&manifest.faucet_key)?;
        let first_nonce = account_state(&faucet.account())?.next_nonce;
        let parents = retry_transport(stalled_until, STALL_RETRY_PAUSE, || {
            fetch_parents(api, unfunded.len())
        })?;
        let txs = unfunded
            .iter()
            .zip(parents)
            .zip(first_nonce..)
            .map(|((index, parents), nonce)| {
                signed_transfer(&faucet, nonce, accounts[*index], (asset, asset.funds()), parents)
                    .map(|(hex, _)| hex)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let request = api_types::TxBatchRequest { txs, transfers: Vec::new() };
        let answer: api_types::TxBatchResponse = http::post(api, "/txs", &request)?;
        for result in answer.results {
            if let api_types::TxBatchItem::Refused { error } = result {
                return Err(TestnetError::Invalid(format!(
                    "the node refused a faucet transfer funding a load account: {error}"
                )));
            }
        }
        let started = Instant::now();
        let deadline = started + timeout;
        let mut reported = started;
        let mut still = unfunded.clone();
        loop {
            // Only the accounts not yet seen funded are asked again.
            still = short(&still)?;
            if still.is_empty() {
                break;
            }
            if reported.elapsed() >= PROGRESS_EVERY {
                reported = Instant::now();
                eprintln!(
                    "funding: {}/{} load accounts funded after {:.0} s",
                    unfunded.len() - still.len(),
                    unfunded.len(),
                    started.elapsed().as_secs_f64()
                );
            }
            if Instant::now() >= deadline {
                return Err(TestnetError::Invalid(format!(
                    "{} load account(s) still unfunded after {} s (is the net making checkpoints?)",
                    still.len(),
                    timeout.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    Ok(!unfunded.is_empty())
}
