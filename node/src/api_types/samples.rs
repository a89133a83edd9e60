//! One filled-in value of every response type, for the tests of the API types and the
//! explorer's.

use super::*;

pub fn status() -> Status {
    let peer: SocketAddr = "127.0.0.1:4001".parse().unwrap();
    Status {
        account: "aa".into(),
        genesis_id: "00".into(),
        height: 7,
        head: "11".into(),
        head_ledger_root: "22".into(),
        final_height: 4,
        final_id: None,
        final_ledger_root: Some("33".into()),
        anchors: vec!["44".into()],
        peers: 3,
        dag_units: 100,
        orphans: 0,
        tips: 2,
        balance: 5,
        next_nonce: 1,
        supply: 1_000,
        chain_id: "test".into(),
        listen: "127.0.0.1:4000".into(),
        peers_live: vec![peer.to_string()],
        plot_nonces: 16,
        faults: InjectedFaults {
            blocked: [peer].into(),
            delay_ms: 5,
            loss_per_mille: 10,
            links: [(peer, LinkFaults { delay_ms: 300, loss_per_mille: 0 })].into(),
        },
    }
}

pub fn checkpoints() -> Checkpoints {
    let row = CheckpointRow {
        height: 3,
        id: "55".into(),
        author: "aa".into(),
        timestamp_ms: 1_000,
        base_target: 9,
        ledger_root: "66".into(),
        parents: 8,
        is_final: true,
    };
    Checkpoints { height: 3, final_height: 1, checkpoints: vec![row] }
}

pub fn recent_txs() -> RecentTxs {
    let tx = RecentTx {
        id: "77".into(),
        from: "aa".into(),
        nonce: 0,
        to: Some("bb".into()),
        amount: 5,
        fee: 1,
        status: TxStatus::Final,
        confirmed_height: Some(2),
        is_final: true,
    };
    RecentTxs { txs: vec![tx] }
}

pub fn dag() -> DagView {
    let unit = DagUnit {
        id: "77".into(),
        from: "aa".into(),
        nonce: 0,
        parents: vec!["00".into(), "00".into()],
        tip: true,
        status: TxStatus::Pending,
    };
    DagView { tips: 1, units: vec![unit] }
}

pub fn accounts() -> Accounts {
    let row = AccountBalance { account: "aa".into(), balance: 5, next_nonce: 1 };
    Accounts { count: 1, accounts: vec![row] }
}

pub fn consortia() -> ConsortiumList {
    ConsortiumList {
        consortia: vec![ConsortiumSummary {
            id: "88".into(),
            name: "clinic".into(),
            parties: 3,
            members: 3,
            quorum: 2,
            tables: vec!["patients".into()],
            key_epoch: 0,
            open_proposals: 1,
            actions: 4,
            action_log_head: "99".into(),
            replica: true,
        }],
    }
}

pub fn consortium_detail() -> ConsortiumDetail {
    use crate::core::consortium::{Column, ColumnType, TableSchema};
    let column = Column { name: "id".into(), column_type: ColumnType::Integer, nullable: false };
    let table = TableSchema { name: "patients".into(), columns: vec![column], primary_key: 0 };
    ConsortiumDetail {
        summary: consortia().consortia.remove(0),
        parties: vec!["aa".into()],
        members: vec![ConsortiumMemberView { account: "aa".into(), key: "bb".into() }],
        tables: vec![table],
        writers: [("patients".to_string(), vec!["aa".to_string()])].into(),
        proposals: vec![ConsortiumProposalView {
            id: "cc".into(),
            proposer: "aa".into(),
            approvals: vec!["aa".into()],
            change: "deny aa on every table".into(),
        }],
        approval_tables: vec!["patients".into()],
        pending_entries: vec![ConsortiumEntryView {
            id: "ee".into(),
            table: "patients".into(),
            writer: "aa".into(),
            log_hash: "ff".into(),
            approvals: vec![],
            denials: vec!["aa".into()],
        }],
        replica_height: Some(9),
        replica_root: Some("dd".into()),
    }
}

pub fn unit() -> Unit {
    Unit {
        id: "77".into(),
        kind: TxKindName::StorePut,
        from: "aa".into(),
        nonce: 0,
        to: None,
        amount: 5,
        fee: 1,
        parents: vec!["00".into()],
        issued_at_ms: 9,
        confirmed_height: None,
        outcome: Some(Outcome::Ignored),
        is_final: false,
        times: None,
    }
}
