use super::samples;
use super::*;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Serialized as JSON, `value` has exactly the keys `keys`, and parses back to itself.
fn assert_keys<T>(value: &T, keys: &[&str]) -> Value
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_value(value).unwrap();
    let found: BTreeSet<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(found, keys.iter().copied().collect::<BTreeSet<_>>(), "{json}");
    let back: T = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(&back, value);
    json
}

#[test]
fn every_response_has_the_keys_clients_read_and_round_trips() {
    let status = assert_keys(
        &samples::status(),
        &[
            "account",
            "genesis_id",
            "height",
            "head",
            "head_ledger_root",
            "final_height",
            "final_id",
            "final_ledger_root",
            "anchors",
            "peers",
            "dag_units",
            "orphans",
            "tips",
            "balance",
            "next_nonce",
            "supply",
            "chain_id",
            "listen",
            "peers_live",
            "plot_nonces",
            "policy",
            "released_height",
            "faults",
        ],
    );
    // Unknown values are written as null, not left out; faults keep the service's shape.
    assert_eq!(status["final_id"], Value::Null);
    assert_eq!(
        status["faults"],
        json!({ "blocked": ["127.0.0.1:4001"], "delay_ms": 5, "loss_per_mille": 10,
                "links": { "127.0.0.1:4001": { "delay_ms": 300, "loss_per_mille": 0 } } })
    );
    let checkpoints = samples::checkpoints();
    assert_keys(&checkpoints, &["height", "final_height", "checkpoints"]);
    let row_keys = [
        "height",
        "id",
        "author",
        "timestamp_ms",
        "base_target",
        "ledger_root",
        "parents",
        "final",
    ];
    assert_keys(&checkpoints.checkpoints[0], &row_keys);
    let txs = samples::recent_txs();
    assert_keys(&txs, &["txs"]);
    let tx_keys =
        ["id", "from", "nonce", "to", "amount", "fee", "status", "confirmed_height", "final"];
    let tx = assert_keys(&txs.txs[0], &tx_keys);
    assert_eq!(tx["status"], "final");
    let dag = samples::dag();
    assert_keys(&dag, &["tips", "units"]);
    let unit = assert_keys(&dag.units[0], &["id", "from", "nonce", "parents", "tip", "status"]);
    assert_eq!(unit["status"], "pending");
    let accounts = samples::accounts();
    assert_keys(&accounts, &["count", "accounts"]);
    assert_keys(&accounts.accounts[0], &["account", "balance", "next_nonce"]);
    let detail = samples::consortium_detail();
    let detail_keys = [
        "summary",
        "parties",
        "members",
        "tables",
        "writers",
        "proposals",
        "approval_tables",
        "pending_entries",
        "replica_height",
        "replica_root",
    ];
    assert_keys(&detail, &detail_keys);
    let entry_keys = ["id", "table", "writer", "log_hash", "approvals", "denials"];
    assert_keys(&detail.pending_entries[0], &entry_keys);
    assert_keys(&detail.members[0], &["account", "key"]);
    assert_keys(&detail.proposals[0], &["id", "proposer", "approvals", "change"]);
    let unit_keys = [
        "id",
        "kind",
        "from",
        "nonce",
        "to",
        "amount",
        "fee",
        "parents",
        "issued_at_ms",
        "confirmed_height",
        "outcome",
        "final",
        "times",
    ];
    let unit = assert_keys(&samples::unit(), &unit_keys);
    assert_eq!((&unit["kind"], &unit["outcome"]), (&json!("store_put"), &json!("ignored")));
    assert_eq!(unit["times"], Value::Null);
    let times = UnitTimes { accepted_ms: Some(1), confirmed_ms: None, final_ms: Some(3) };
    let times = assert_keys(&times, &["accepted_ms", "confirmed_ms", "final_ms"]);
    assert_eq!(times["confirmed_ms"], Value::Null);
    assert_keys(&Ready { ready: true, height: 0 }, &["ready", "height"]);
    assert_keys(&ErrorBody { error: "no".into() }, &["error"]);
    assert_keys(&TxAccepted { id: "77".into() }, &["id"]);
    assert_keys(&Tips { tips: vec![] }, &["tips"]);
    let parents = Parents { parents: vec![["00".into(), "11".into()]] };
    assert_eq!(assert_keys(&parents, &["parents"])["parents"], json!([["00", "11"]]));
    let contract = Contract {
        file_id: "88".into(),
        put: "99".into(),
        owner: "aa".into(),
        opened_at: 1,
        first_round: 2,
        escrow: 3,
        storage_nodes: vec!["bb".into()],
        missed_rounds: vec![0],
    };
    let contract_keys = [
        "file_id",
        "put",
        "owner",
        "opened_at",
        "first_round",
        "escrow",
        "storage_nodes",
        "missed_rounds",
    ];
    assert_keys(&contract, &contract_keys);
    assert_keys(&Shard { shard: "00".into() }, &["shard"]);
    assert_keys(&ShardStored { stored: true, already_held: false }, &["stored", "already_held"]);
    let faults = samples::status().faults;
    assert_keys(&ControlResponse { faults }, &["faults"]);
}

#[test]
fn batch_and_unit_lists_keep_their_null_and_either_or_shapes() {
    let results = vec![
        TxBatchItem::Accepted { id: "77".into() },
        TxBatchItem::Refused { error: "nonce used (stale_nonce)".into() },
    ];
    let response = TxBatchResponse { accepted: 1, results };
    let json = assert_keys(&response, &["accepted", "results"]);
    assert_eq!(json["results"], json!([{ "id": "77" }, { "error": "nonce used (stale_nonce)" }]));
    let status = UnitStatus {
        confirmed_height: Some(2),
        outcome: Some(Outcome::Applied),
        is_final: true,
        times: Some(UnitTimes::default()),
    };
    assert_keys(&status, &["confirmed_height", "outcome", "final", "times"]);
    let units = UnitsResponse { units: vec![None, Some(status)] };
    let json = assert_keys(&units, &["units"]);
    assert_eq!(json["units"][0], Value::Null);
    assert_eq!(json["units"][1]["outcome"], "applied");
}

#[test]
fn requests_leave_out_what_the_client_left_out() {
    let transfer = TransferRequest { to: "bb".into(), amount: 5, fee: None };
    assert_keys(&transfer, &["to", "amount"]);
    let faucet = serde_json::to_value(TxRequest::Faucet(transfer.clone())).unwrap();
    assert_eq!(faucet, json!({ "to": "bb", "amount": 5 }));
    let signed = TxRequest::Signed(SignedTxRequest { tx: "00ff".into() });
    assert_eq!(serde_json::to_value(&signed).unwrap(), json!({ "tx": "00ff" }));
    // The node tells the two forms apart by the `tx` key; so does the type.
    let parsed: TxRequest = serde_json::from_value(json!({ "tx": "00ff" })).unwrap();
    assert_eq!(parsed, signed);
    let parsed: TxRequest = serde_json::from_value(json!({ "to": "bb", "amount": 5 })).unwrap();
    assert_eq!(parsed, TxRequest::Faucet(transfer.clone()));
    let batch = TxBatchRequest { txs: vec!["00".into()], transfers: vec![] };
    assert_keys(&batch, &["txs"]);
    let batch = TxBatchRequest { txs: vec![], transfers: vec![transfer] };
    assert_keys(&batch, &["transfers"]);
    assert_keys(&UnitsRequest { ids: vec!["77".into()] }, &["ids"]);
    let link = LinkRequest { peer: "127.0.0.1:1".into(), delay_ms: Some(3), loss_per_mille: None };
    assert_keys(&link, &["peer", "delay_ms"]);
    assert_keys(&PartitionRequest { peers: vec![] }, &["peers"]);
    assert_keys(&DelayRequest { ms: 1 }, &["ms"]);
    assert_keys(&LossRequest { per_mille: 1 }, &["per_mille"]);
    assert_eq!(serde_json::to_string(&EmptyRequest {}).unwrap(), "{}");
}
