//! Create a consortium database, write a row sealed to its members, and read it back from a
//! member node's replica.
//!
//! ```bash
//! cargo run -p vein-sdk --example consortium -- --node 127.0.0.1:PORT0 \
//!     --token-file NET/api-token --key-file NET/faucet.key --member-key-file NET/node0/key.hex
//! ```
//!
//! `--node` must be the member node (its replica answers the query) and the token its API
//! token. The member's X25519 key is derived from its seed here, as the node derives it; a
//! node operator would hand the public key over instead.

mod common;

use clap::Parser;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use vein_sdk::consortium::{NewConsortium, member_public_key};
use vein_sdk::vein_node::core::consortium::{Column, ColumnType, RowOp, TableSchema, Value};
use vein_sdk::{Client, load_key};

/// Create consortium `--name` with one table `notes(id integer key, body text)`, insert
/// `(--id, --body)` and query it back.
#[derive(Parser)]
struct Args {
    /// The member node's API address (default: VEIN_NODE).
    #[arg(long)]
    node: Option<SocketAddr>,
    /// The node's API token file (default: VEIN_TOKEN): replica reads are privileged.
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// The party's key (creator and writer): its ed25519 seed as 64 hex characters.
    #[arg(long)]
    key_file: PathBuf,
    /// The member node's key file: its X25519 member key derives from it.
    #[arg(long)]
    member_key_file: PathBuf,
    /// The consortium's name.
    #[arg(long, default_value = "clinic")]
    name: String,
    /// The row's key.
    #[arg(long, default_value_t = 1)]
    id: i64,
    /// The row's text.
    #[arg(long, default_value = "written through vein-sdk")]
    body: String,
    /// Seconds to wait for each transaction to be final.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
}

fn notes_table() -> TableSchema {
    let column =
        |name: &str, column_type| Column { name: name.into(), column_type, nullable: false };
    TableSchema {
        name: "notes".into(),
        columns: vec![column("id", ColumnType::Integer), column("body", ColumnType::Text)],
        primary_key: 0,
    }
}

fn run(args: Args) -> Result<(), String> {
    let token = common::token(args.token_file.as_deref())?;
    let client = Client::new(common::node(args.node)?).with_token(token);
    let party = load_key(&args.key_file).map_err(|error| error.to_string())?;
    let member = load_key(&args.member_key_file).map_err(|error| error.to_string())?;
    let timeout = Duration::from_secs(args.timeout);
    let spec = NewConsortium {
        name: args.name.clone(),
        parties: BTreeSet::from([party.account()]),
        members: BTreeMap::from([(member.account(), member_public_key(&member.seed()))]),
        tables: vec![notes_table()],
        quorum: 1,
    };
    let created = client.create_consortium(&party, &spec, 1).map_err(|error| error.to_string())?;
    println!(
        "created consortium {} ({}) in transaction {}",
        created.id, args.name, created.submitted.id
    );
    let seen =
        client.wait_final(&created.submitted.id, timeout).map_err(|error| error.to_string())?;
    println!("creation final at height {}", seen.height);

    let row = vec![Value::Integer(args.id), Value::Text(args.body.clone())];
    let ops = vec![RowOp::Insert { row: row.clone() }];
    let written = client
        .write_rows(&party, &created.id, &created.data_key, 0, "notes", ops, 1)
        .map_err(|error| error.to_string())?;
    let seen = client.wait_final(&written.id, timeout).map_err(|error| error.to_string())?;
    println!(
        "row ({}, {:?}) written in {}, final at height {}",
        args.id, args.body, written.id, seen.height
    );

    client.wait_height(seen.height, timeout).map_err(|error| error.to_string())?;
    let answer = client
        .query(&created.id, "SELECT id, body FROM notes ORDER BY id", Some(seen.height))
        .map_err(|error| error.to_string())?;
    println!("replica at height {} (root {}): {:?}", answer.height, answer.root, answer.rows);
    if !answer.rows.contains(&row) {
        return Err(format!("the replica does not hold the row written: {:?}", answer.rows));
    }
    let proof = client
        .row(&created.id, "notes", Value::Integer(args.id), Some(seen.height))
        .map_err(|error| error.to_string())?;
    println!("row {} by key: {:?}, proof verified: {}", args.id, proof.row, proof.verified);
    Ok(())
}

fn main() -> ExitCode {
    common::finish(run(Args::parse()))
}
