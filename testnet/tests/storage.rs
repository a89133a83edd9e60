//! Storage end to end, through the real CLI and real node processes: `put` a ~100 KiB file on a
//! 4-node testnet, `get` it back byte-identical; the holders' disks never see the plaintext; kill
//! a shard holder and `get` still recovers it from the others; kill holders until fewer than k
//! shards are reachable and `get` fails with a clear error, as do an unknown id and a missing file.

// Test helpers may panic on broken invariants; the test drives real processes on the wall clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod common;

use common::Net;
use vein_node::api_types;
use vein_testnet::http;

/// Seeded pseudo-random bytes (xorshift64): incompressible content, same on every run.
fn content(len: usize, mut state: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

#[test]
fn put_get_and_survive_a_lost_holder() {
    let net = Net::new();
    net.cli(&["up", "--nodes", "4", "--nonces", "16", "--interval-ms", "1000", "--k", "6"]);
    let work = tempfile::tempdir().unwrap();
    let plaintext = content(100 * 1024 + 17, 0x5eed);
    let input = work.path().join("input.bin");
    std::fs::write(&input, &plaintext).unwrap();

    // Clear errors before anything is stored.
    let missing = work.path().join("no-such-file");
    let stderr = net.cli_fails(&["put", missing.to_str().unwrap()]);
    assert!(stderr.contains("file not found"), "{stderr}");
    let stderr = net.cli_fails(&["get", &"ab".repeat(32), "--out", "/dev/null"]);
    assert!(stderr.contains("unknown file id"), "{stderr}");

    // The storage node set is the four nodes' accounts: not the faucet nor the attestation
    // accounts, which genesis funds too but no node runs (with them in the set, a 4-shard put
    // landed only on nodes once in 126 placements).
    let manifest = net.manifest();
    let genesis = vein_node::genesis_file::GenesisFile::load(&manifest.genesis).unwrap();
    let storage_nodes: Vec<String> =
        genesis.to_genesis().unwrap().storage_nodes().iter().map(|a| a.to_hex()).collect();
    let mut node_accounts: Vec<String> =
        manifest.nodes.iter().map(|node| node.account.clone()).collect();
    node_accounts.sort();
    assert_eq!(storage_nodes, node_accounts);
    // n = 5 would need a storage account no node runs: refused before anything.
    let stderr = net.cli_fails(&["put", input.to_str().unwrap(), "--n", "5", "--k", "2"]);
    assert!(stderr.contains("this testnet has 4"), "{stderr}");
    // n = 4 over the 4 storage accounts, k = 2: every shard on a node.
    let (file_id, put_log) =
        net.cli_with_log(&["put", input.to_str().unwrap(), "--n", "4", "--k", "2"]);
    assert_eq!(file_id.len(), 64, "put printed {file_id:?}; log: {put_log}");
    assert!(!put_log.contains("not delivered"), "every shard delivered: {put_log}");
    assert!(net.dir.path().join("files").join(format!("{file_id}.key")).exists());

    let out = work.path().join("out.bin");
    let (_, get_log) = net.cli_with_log(&["get", &file_id, "--out", out.to_str().unwrap()]);
    assert!(std::fs::read(&out).unwrap() == plaintext, "first get differs; log: {get_log}");

    // The holders keep ciphertext only: no 64-byte piece of the plaintext is on their disks.
    let mut holders = Vec::new();
    let contract: api_types::Contract =
        http::get(manifest.nodes[0].api, &format!("/contract/{file_id}")).unwrap();
    let assigned = contract.storage_nodes;
    for (shard, account) in assigned.iter().enumerate() {
        if let Some(node) = manifest.nodes.iter().find(|node| &node.account == account) {
            let answer =
                http::get::<api_types::Shard>(node.api, &format!("/shard/{file_id}/{shard}"));
            assert!(answer.is_ok(), "node {} does not serve shard {shard}", node.index);
            holders.push(node.index);
            let log = std::fs::read(node.data.join("shards.log")).unwrap();
            for piece in plaintext.chunks(64).take(16) {
                assert!(!log.windows(piece.len()).any(|window| window == piece));
            }
        }
    }
    assert_eq!(holders.len(), 4, "holders {holders:?} of {assigned:?}");

    // A holder refuses bytes that do not match the contract, and a node refuses a shard that is
    // not assigned to it: nobody makes a node keep (and prove) what no contract pays for.
    let holder = &manifest.nodes[holders[0]];
    let shard = assigned.iter().position(|account| *account == holder.account).unwrap();
    let route = format!("/shard/{file_id}/{shard}");
    let served: api_types::Shard = http::get(holder.api, &route).unwrap();
    let mut bytes = hex::decode(served.shard).unwrap();
    bytes[100] ^= 0xff;
    let corrupt = api_types::Shard { shard: hex::encode(&bytes) };
    let refused = http::post::<_, api_types::ShardStored>(holder.api, &route, &corrupt)
        .unwrap_err()
        .to_string();
    assert!(refused.contains("422"), "{refused}");
    bytes[100] ^= 0xff;
    let other = manifest.nodes.iter().find(|node| node.index != holder.index).unwrap();
    let original = api_types::Shard { shard: hex::encode(&bytes) };
    let misplaced = http::get::<api_types::Shard>(other.api, &route).is_err();
    let refused = http::post::<_, api_types::ShardStored>(other.api, &route, &original)
        .unwrap_err()
        .to_string();
    assert!(misplaced && refused.contains("409"), "{refused}");

    // Lose one holder: any two of the others still recover the file.
    let lost = holders[0].to_string();
    net.cli(&["kill", &lost]);
    std::fs::remove_file(&out).unwrap();
    let (_, get_log) = net.cli_with_log(&["get", &file_id, "--out", out.to_str().unwrap()]);
    assert!(std::fs::read(&out).unwrap() == plaintext, "get after a kill differs: {get_log}");
    assert!(get_log.contains("not running"), "the lost shard is reported: {get_log}");

    // Below k: a clear error, no output file.
    for holder in &holders[1..holders.len() - 1] {
        net.cli(&["kill", &holder.to_string()]);
    }
    std::fs::remove_file(&out).unwrap();
    let stderr = net.cli_fails(&["get", &file_id, "--out", out.to_str().unwrap()]);
    assert!(stderr.contains("only 1 intact shard(s)"), "{stderr}");
    assert!(!out.exists());
    net.cli(&["down"]);
}
