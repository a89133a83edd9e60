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
        policy: "withhold".into(),
        released_height: Some(5),
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

pub fn unit_times() -> UnitTimes {
    UnitTimes { accepted_ms: Some(1), confirmed_ms: Some(2), final_ms: None }
}

pub fn token_list() -> TokenList {
    let token = TokenSummary {
        id: "ab".into(),
        name: "Acme".into(),
        symbol: "ACM".into(),
        decimals: 2,
        issuer: "aa".into(),
        mintable: true,
        minter: Some(TokenMinterView::Issuer),
        cap: Some(10),
        issued: 5,
        minted: 1,
        burned: 0,
        total_supply: 6,
        holders: 2,
        erc20_address: "0xe20ce20c".into(),
        height: 3,
    };
    TokenList { tokens: vec![token], total: 1 }
}

pub fn token_balance() -> TokenBalance {
    TokenBalance { token: "ab".into(), account: "aa".into(), balance: 5, height: 3 }
}

pub fn attestations() -> ConsortiumAttestations {
    let member = DivergedMember {
        member: "aa".into(),
        height: 2,
        attested: Some("01".into()),
        certified: Some("02".into()),
        detected_at: None,
    };
    ConsortiumAttestations {
        certified_height: Some(4),
        certified_root: Some("03".into()),
        open_heights: vec![(5, 1, None)],
        diverged: vec![member.clone()],
        own_divergence: None,
        peers_seen_diverged: vec![member],
        attestations_queued: 2,
        repairs: 0,
    }
}

pub fn fl_task() -> FlTaskDetail {
    let summary = FlTaskSummary {
        id: "fa".into(),
        poster: "aa".into(),
        rule: "median".into(),
        masked: false,
        rule_parameter: None,
        dimension: 12,
        learning_rate_fixed: 3276,
        local_epochs: 1,
        batch_size: 16,
        rounds: 4,
        settled_rounds: 1,
        min_participants: 1,
        participants: 1,
        price_per_round: 100,
        escrow: 300,
        open_round_updates: 1,
        open_round_aggregates: 0,
        open_round_attempt: 0,
    };
    FlTaskDetail {
        summary,
        participants: vec![FlParticipantRow {
            account: "bb".into(),
            samples: 7,
            mask_key: "00".into(),
            paid: 99,
        }],
        settled: vec![FlRoundRow {
            round: 0,
            aggregate: "ag".into(),
            contributors: 1,
            accepted: 1,
            paid: 99,
            burned: 1,
        }],
        open_round: vec![FlCommitRow {
            account: "bb".into(),
            update: None,
            aggregate: None,
            revealed: Vec::new(),
        }],
    }
}

pub fn explorer_config() -> ExplorerConfig {
    ExplorerConfig {
        links: vec![ExplorerLink { label: "docs".into(), url: "https://example.org".into() }],
        ..ExplorerConfig::default()
    }
}

pub fn fork_tree() -> ForkTree {
    let node = |id: &str, prev: &str, height, active| ForkNode {
        id: id.into(),
        prev: prev.into(),
        height,
        author: "aa".into(),
        timestamp_ms: 1_000 * height,
        active,
        is_final: active && height <= 1,
    };
    ForkTree {
        head: "c2".into(),
        height: 2,
        final_height: 1,
        checkpoints: vec![
            node("c2", "c1", 2, true),
            node("s2", "c1", 2, false),
            node("c1", "c0", 1, true),
        ],
    }
}

pub fn checkpoint_detail() -> CheckpointDetail {
    CheckpointDetail {
        id: "c1".into(),
        height: 1,
        prev: "c0".into(),
        author: "aa".into(),
        timestamp_ms: 1_000,
        base_target: 9,
        ledger_root: "66".into(),
        generation_signature: "67".into(),
        active: true,
        is_final: true,
        parents: vec!["77".into()],
        confirmed: vec![ConfirmedUnit { id: "77".into(), outcome: Outcome::Applied }],
        confirmed_count: 1,
    }
}

pub fn evm_receipts() -> EvmReceipts {
    let row = EvmReceiptRow {
        hash: "0x01".into(),
        height: 3,
        index: 0,
        from: "0xaa".into(),
        to: None,
        contract_address: Some("0xcc".into()),
        success: true,
        gas_used: 21_000,
        logs: 1,
    };
    EvmReceipts { contracts: 1, receipts: vec![row] }
}

pub fn search_results() -> SearchResults {
    SearchResults {
        query: "77".into(),
        matches: vec![SearchMatch { kind: SearchKind::Unit, id: "77".into() }],
    }
}
