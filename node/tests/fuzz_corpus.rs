//! The fuzz corpora on stable Rust: every committed file of `fuzz/corpus/<target>/` and every
//! committed crash of `fuzz/artifacts/<target>/` goes through the same function the libFuzzer
//! target calls (`vein_node::fuzz_targets`), so a crash once found stays fixed on every CI run
//! without a nightly toolchain (docs/fuzzing.md). The scenario parser's corpus is run by
//! `scenarios/tests/fuzz_corpus.rs`.
//!
//! The seeds named `valid-*` are real encodings written by [`write_seed_corpus`] (ignored; run
//! it after a format change); they must still decode, so a stale seed that no longer reaches
//! past the first check of its decoder is noticed here.

use std::path::{Path, PathBuf};
use vein_node::core::checkpoint::{Checkpoint, CheckpointBody};
use vein_node::core::hash::Hash;
use vein_node::core::message::Message;
use vein_node::core::poc::PocMode;
use vein_node::core::poc::plot_file::PlotHeader;
use vein_node::core::poc::proof::PocProof;
use vein_node::core::storage::{erasure, merkle};
use vein_node::fuzz_targets;
use vein_node::genesis_file::GenesisFile;
use vein_node::runtime::handshake::{Ack, Hello};
use vein_node::{Genesis, Keypair, Params, Transaction, TransactionBody, TxKind, store};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of `dir`, sorted by name; none if it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a readable corpus directory").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}

#[test]
fn every_corpus_file_and_crash_runs_clean() {
    for target in fuzz_targets::TARGETS.iter().filter(|target| **target != "scenario_file") {
        let corpus = files(&fuzz_dir().join("corpus").join(target));
        assert!(corpus.len() >= 3, "fuzz/corpus/{target} has {} seeds", corpus.len());
        let crashes = files(&fuzz_dir().join("artifacts").join(target));
        for path in corpus.iter().chain(&crashes) {
            // A panic names the target, not the file: say which file first.
            eprintln!("{target}: {}", path.display());
            assert!(fuzz_targets::run(target, &read(path)), "{target} is not a node target");
        }
    }
}

#[test]
fn valid_seeds_still_decode() {
    let valid = |target: &str| -> Vec<Vec<u8>> {
        let seeds: Vec<Vec<u8>> = files(&fuzz_dir().join("corpus").join(target))
            .iter()
            .filter(|path| {
                path.file_name().is_some_and(|name| name.to_string_lossy().starts_with("valid-"))
            })
            .map(|path| read(path))
            .collect();
        assert!(!seeds.is_empty(), "no valid seed for {target}");
        seeds
    };
    let challenge = [0x5a; 32];
    for seed in valid("hello") {
        Hello::decode(&seed).expect("hello").verify(&challenge).expect("signed hello");
    }
    for seed in valid("ack") {
        let bytes: [u8; 96] = seed[..96].try_into().expect("96 bytes");
        let theirs: [u8; 32] = seed[96..128].try_into().expect("32 bytes");
        assert!(Ack::verified_key(&bytes, &theirs).is_some(), "the ack seed verifies");
    }
    for seed in valid("message") {
        Message::decode(&seed).expect("message");
    }
    for seed in valid("transaction") {
        Transaction::decode(&seed).expect("transaction").verify_signature().expect("signed");
    }
    for seed in valid("checkpoint") {
        Checkpoint::decode(&seed).expect("checkpoint");
    }
    for seed in valid("store_log") {
        assert_eq!(store::decode_log(&seed).end, store::LogEnd::Clean);
    }
    for seed in valid("plot_header") {
        PlotHeader::decode(&seed).expect("plot header");
    }
    for seed in valid("storage_shards") {
        let (k, n) = (seed[0], seed[1]);
        assert!(erasure::check_parameters(k, n).is_ok(), "parameters of a valid shards seed");
    }
    for seed in valid("genesis_file") {
        let text = std::str::from_utf8(&seed).expect("text");
        GenesisFile::parse(text, "seed").expect("parses").to_genesis().expect("valid genesis");
    }
}

fn transfer(nonce: u64, amount: u64) -> Transaction {
    let key = Keypair::derived("fuzz-seed", 0);
    TransactionBody {
        from: key.account(),
        nonce,
        kind: TxKind::Transfer { to: Keypair::derived("fuzz-seed", 1).account(), amount },
        fee: 3,
        parents: [Hash::of(b"left"), Hash::of(b"right")],
        issued_at_ms: 1_764_100_000_000 + nonce,
    }
    .sign(&key)
    .expect("a transfer signs")
}

fn checkpoint() -> Checkpoint {
    let key = Keypair::derived("fuzz-seed", 2);
    CheckpointBody {
        height: 7,
        prev: Hash::of(b"prev"),
        generation_signature: Hash::of(b"generation"),
        proof: PocProof::Plot { plot_account: key.account(), nonce_index: 3, scoop: [7; 64] },
        parents: vec![Hash::of(b"left"), Hash::of(b"right")],
        base_target: 123_456,
        cumulative_weight: 1 << 40,
        ledger_root: Hash::of(b"ledger"),
        timestamp_ms: 1_764_100_000_000,
        author: key.account(),
    }
    .sign(&key)
    .expect("a checkpoint signs")
}

fn genesis(poc: PocMode) -> Genesis {
    // What `vein-testnet up` writes for 4 nodes (testnet/src/lib.rs).
    Genesis {
        chain_id: "vein-testnet-fuzz".into(),
        timestamp_ms: 1_764_100_000_000,
        allocations: (0..4)
            .map(|i| (Keypair::derived("fuzz-node", i).account(), 1 << 40))
            .collect(),
        initial_base_target: 18_446_744,
        poc,
        params: Params { target_interval_ms: 2_000, finality_depth: 6, ..Params::default() },
    }
}

/// The shards seed of `fuzz_targets::storage_shards`: `k = 2, n = 4`, data shard 0 missing (so
/// decoding reconstructs it), then leaf 1 of a 4-leaf Merkle tree with its root and path.
fn shards_seed(codec: erasure::Codec) -> Vec<u8> {
    let payload = b"a file owner's encrypted bytes, cut into shards for four holders".repeat(2);
    let shards = erasure::encode(codec, &payload, 2, 4).expect("shards");
    let shard_bytes = shards[0].len();
    let chunk_bytes = u32::try_from(shard_bytes).expect("small");
    let data: Vec<u8> = shards.concat();
    let tree = merkle::MerkleTree::from_data(&data, chunk_bytes).expect("tree");
    let mut seed = vec![2, 4, 0b1110, 0, u8::try_from(shard_bytes).expect("< 256"), 1, 0, 4];
    for shard in &shards[1..] {
        seed.extend_from_slice(shard);
    }
    seed.extend_from_slice(tree.root().as_bytes());
    seed.extend_from_slice(&shards[1]);
    for hash in tree.prove(1).expect("path") {
        seed.extend_from_slice(hash.as_bytes());
    }
    seed
}

/// Write the generated seeds into `fuzz/corpus/` (run by hand after a format change:
/// `cargo test -p vein-node --test fuzz_corpus -- --ignored write_seed_corpus`).
#[test]
#[ignore = "writes fuzz/corpus/; run by hand"]
fn write_seed_corpus() {
    let mut seeds: Vec<(&str, &str, Vec<u8>)> = Vec::new();
    let challenge = [0x5a; 32];
    let node = Keypair::derived("fuzz-node", 0);
    let v4 = Hello::new(&node, &challenge, [9; 32], "127.0.0.1:9000".parse().expect("addr"));
    let v6 = Hello::new(&node, &challenge, [8; 32], "[::1]:9001".parse().expect("addr"));
    seeds.push(("hello", "valid-ipv4", v4.encode()));
    seeds.push(("hello", "valid-ipv6", v6.encode()));
    let mut bad_text = v4.encode();
    *bad_text.last_mut().expect("address text") = 0xff;
    seeds.push(("hello", "bad-address-utf8", bad_text));
    seeds.push(("hello", "truncated", v4.encode()[..100].to_vec()));

    let ack = Ack::new(&node, &challenge);
    seeds.push(("ack", "valid-ack", [ack.encode().as_slice(), &challenge].concat()));
    let mut forged = ack.encode();
    forged[40] ^= 1;
    seeds.push(("ack", "bad-signature", [forged.as_slice(), &challenge].concat()));
    seeds.push(("ack", "small-order-key", [[0u8; 96].as_slice(), &challenge].concat()));

    let (tx, cp) = (transfer(1, 500), checkpoint());
    let messages = [
        ("valid-transaction", Message::Transaction(tx.clone())),
        ("valid-checkpoint", Message::Checkpoint(cp.clone())),
        ("valid-get-units", Message::GetUnits(vec![Hash::of(b"a"), Hash::of(b"b")])),
        (
            "valid-head",
            Message::Head { id: Hash::of(b"h"), height: 42, cumulative_weight: 1 << 70 },
        ),
        ("valid-get-shard", Message::GetShard { file_id: Hash::of(b"f"), shard_index: 3 }),
        (
            "valid-shard",
            Message::Shard { file_id: Hash::of(b"f"), shard_index: 1, bytes: vec![7; 40] },
        ),
    ];
    for (name, message) in messages {
        let encoded = message.encode().expect("encodes");
        seeds.push(("message", name, encoded.clone()));
        if name == "valid-transaction" {
            let mut unknown = encoded.clone();
            unknown[2] = 99;
            seeds.push(("message", "unknown-kind", unknown));
            seeds.push(("message", "truncated", encoded[..encoded.len() - 3].to_vec()));
        }
    }
    let tx_bytes = tx.encode().expect("encodes");
    seeds.push(("transaction", "valid-transfer", tx_bytes.clone()));
    let mut flipped = tx_bytes.clone();
    flipped[10] ^= 0x80;
    seeds.push(("transaction", "flipped", flipped));
    seeds.push(("transaction", "truncated", tx_bytes[..tx_bytes.len() / 2].to_vec()));
    let cp_bytes = cp.encode().expect("encodes");
    seeds.push(("checkpoint", "valid-checkpoint", cp_bytes.clone()));
    let mut long_parents = cp_bytes.clone();
    long_parents[0] = 0xfb; // a u16 varint prefix where a one-byte height was
    seeds.push(("checkpoint", "non-canonical", long_parents));
    seeds.push(("checkpoint", "truncated", cp_bytes[..cp_bytes.len() - 1].to_vec()));

    let mut log = Vec::new();
    log.extend(store::encode_record(store::KIND_TRANSACTION, &tx_bytes));
    log.extend(store::encode_record(store::KIND_CHECKPOINT, &cp_bytes));
    log.extend(store::encode_record(
        store::KIND_TRANSACTION,
        &transfer(2, 9).encode().expect("tx"),
    ));
    seeds.push(("store_log", "valid-3-records", log.clone()));
    seeds.push(("store_log", "torn-tail", log[..log.len() - 5].to_vec()));
    let mut corrupt = log.clone();
    corrupt[13 + tx_bytes.len() + 20] ^= 0x10; // inside record 2's body
    seeds.push(("store_log", "corrupt-record-2", corrupt));
    let shard = store::encode_shard(&Hash::of(b"file"), 2, &[5; 48]);
    let shard_log = [
        store::encode_record(store::KIND_SHARD, &shard),
        store::encode_record(store::KIND_SHARD, &shard),
    ]
    .concat();
    seeds.push(("store_log", "valid-shards", shard_log));

    let header = PlotHeader {
        account: node.account(),
        start_nonce: 1_000,
        nonce_count: 8,
        data_checksum: Hash::of(b"data"),
    };
    seeds.push(("plot_header", "valid-header", header.encode().to_vec()));
    let empty = PlotHeader { nonce_count: 0, ..header };
    seeds.push(("plot_header", "empty-plot", empty.encode().to_vec()));
    let huge = PlotHeader { nonce_count: u64::MAX / 2, ..header };
    seeds.push(("plot_header", "nonce-count-overflow", huge.encode().to_vec()));
    let mut flipped = header.encode().to_vec();
    flipped[60] ^= 1;
    seeds.push(("plot_header", "header-checksum", flipped));

    seeds.push(("storage_shards", "valid-simd", shards_seed(erasure::Codec::Simd)));
    seeds.push(("storage_shards", "valid-classic", shards_seed(erasure::Codec::Classic)));
    let mut bad = shards_seed(erasure::Codec::Simd);
    bad[20] ^= 0xff;
    seeds.push(("storage_shards", "tampered", bad));

    let json = |genesis: &Genesis| {
        serde_json::to_vec_pretty(&GenesisFile::from_genesis(genesis)).expect("serialises")
    };
    seeds.push(("genesis_file", "valid-testnet", json(&genesis(PocMode::Real))));
    let capacities = (0..4).map(|i| (Keypair::derived("fuzz-node", i).account(), 64)).collect();
    seeds.push(("genesis_file", "valid-model", json(&genesis(PocMode::Model { capacities }))));
    let bad = String::from_utf8(json(&genesis(PocMode::Real))).expect("utf8");
    let bad = bad.replacen("\"balance\": 1099511627776", "\"balance\": -1", 1);
    seeds.push(("genesis_file", "negative-balance", bad.into_bytes()));

    for (target, name, bytes) in seeds {
        let dir = fuzz_dir().join("corpus").join(target);
        std::fs::create_dir_all(&dir).expect("corpus directory");
        std::fs::write(dir.join(name), bytes).expect("seed written");
    }
}
