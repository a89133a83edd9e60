//! `vein-testnet db ...`: consortium databases on a running testnet (docs/consortium.md,
//! "Operators and users"). Every transaction is signed here with a party's key (a node index
//! or `faucet`) and posted pre-signed through `POST /tx`; reads use `GET /consortium/{id}`
//! (public) and a member node's replica routes (`/query`, `/row`, `/verify`, with the
//! testnet's API token).
//!
//! - `create` draws the data key, wraps it for the member nodes' X25519 keys (derived from
//!   their signing seeds, which the testnet holds, as the node itself derives them) and keeps
//!   it in `DIR/consortia/ID.json` ([`crate::db_store`]).
//! - `grant`/`deny` propose the change from one party and approve it from others until the
//!   quorum m is reached, waiting for each to be final.
//! - `exec` seals one action (row operations on one table, [`crate::db_syntax`]) and, once it
//!   is final, checks on a member's replica that the rows it wrote are there at that height.
//! - `query`, `verify` and `history` read ([`crate::db_read`]); `load` offers writes at a rate
//!   ([`crate::db_load`]).
//!
//! What the ledger would refuse for certain (an unknown table, a write without permission, a
//! change that changes nothing) is refused here first with a typed error (exit 3), unless
//! `--no-check` asks to send it anyway (the chain then orders it and ignores it: also exit 3).

pub use crate::db_error::DbCliError;
use crate::db_read;
use crate::db_store::{HashText, JournalEntry, LocalConsortium, random_bytes};
use crate::db_syntax::{self, format_value};
use crate::manifest::Manifest;
use crate::{
    TestnetError, account_state, http, no_answer, node_entry, now_ms, parents_from, reachable,
    read_key, resolve_account, wait_final,
};
use clap::Subcommand;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use vein_node::api_types::{self, ConsortiumDetail};
use vein_node::core::consortium::keys::{self, DataKey, MemberSecret};
use vein_node::core::consortium::{
    Action, Consortium, ConsortiumTx, CreateConsortium, PermissionChange, RowOp, TableSchema,
    Value, consortium_id, entry_id, proposal_id,
};
use vein_node::core::crypto::{AccountId, Keypair};
use vein_node::core::hash::Hash;
use vein_node::core::transaction::{TransactionBody, TxKind};

/// The `vein-testnet db` subcommands; [`run`] carries one out.
#[derive(Clone, Debug, Subcommand)]
pub enum DbCommand {
    /// Create a consortium; prints its id. The data key stays in DIR/consortia/ID.json.
    Create {
        /// A name for people; the id, not the name, identifies the consortium.
        #[arg(long)]
        name: String,
        /// Party accounts (comma-separated node indexes or `faucet`); --from is one of them.
        #[arg(long)]
        parties: String,
        /// Member nodes (comma-separated node indexes): they hold the key and a replica.
        #[arg(long)]
        members: String,
        /// A table, e.g. 'patients(id integer key, name text, note text?)'; repeat for more.
        #[arg(long = "table", required = true)]
        tables: Vec<String>,
        /// m of the n parties needed for a grant or deny.
        #[arg(long)]
        quorum: u16,
        /// The creator (--from, one of the parties), fee and node.
        #[command(flatten)]
        common: Common,
    },
    /// Let an account write a table (proposal plus approvals up to the quorum).
    Grant {
        /// The consortium id (64 hex, as `create` printed it).
        #[arg(long)]
        consortium: String,
        /// A node index, `faucet` or a 64-hex account.
        #[arg(long)]
        account: String,
        /// The table it may write.
        #[arg(long)]
        table: String,
        /// Parties that approve (comma-separated; default: the next parties with keys here).
        #[arg(long)]
        approvers: Option<String>,
        /// The proposer (--from, a party), fee and node.
        #[command(flatten)]
        common: Common,
    },
    /// Take an account's write permission on a table (or on every table without --table).
    Deny {
        /// The consortium id (64 hex, as `create` printed it).
        #[arg(long)]
        consortium: String,
        /// A node index, `faucet` or a 64-hex account.
        #[arg(long)]
        account: String,
        /// The table it may no longer write (default: every table).
        #[arg(long)]
        table: Option<String>,
        /// Parties that approve (comma-separated; default: the next parties with keys here).
        #[arg(long)]
        approvers: Option<String>,
        /// The proposer (--from, a party), fee and node.
        #[command(flatten)]
        common: Common,
    },
    /// Require the parties' approval of each entry written to a table (or stop, with --off):
    /// a proposal plus approvals up to the quorum. Writes then wait as pending entries
    /// (`db list --consortium ID` shows them) until `db vote` decides them.
    Approval {
        /// The consortium id (64 hex, as `create` printed it).
        #[arg(long)]
        consortium: String,
        /// The table whose entries need (or no longer need) approval.
        #[arg(long)]
        table: String,
        /// Stop requiring approval.
        #[arg(long)]
        off: bool,
        /// Parties that approve (comma-separated; default: the next parties with keys here).
        #[arg(long)]
        approvers: Option<String>,
        /// The proposer (--from, a party), fee and node.
        #[command(flatten)]
        common: Common,
    },
    /// Vote on a pending entry as party --from: approve it, or deny it with --deny. An entry
    /// applies once the quorum approves; it is dropped once the quorum is out of reach.
    Vote {
        /// The consortium id (64 hex, as `create` printed it).
        #[arg(long)]
        consortium: String,
        /// The entry id `exec` printed (64 hex).
        #[arg(long)]
        entry: String,
        /// Deny the entry instead of approving it.
        #[arg(long)]
        deny: bool,
        /// The voter (--from, a party), fee and node.
        #[command(flatten)]
        common: Common,
    },
    /// Write: row operations on one table, sealed to the consortium, e.g.
    /// "insert patients (1, 'Ada', null); delete patients 7". Prints the transaction id (and,
    /// on a table requiring approval, the pending entry's id).
    Exec {
        /// The consortium id (64 hex, as `create` printed it).
        #[arg(long)]
        consortium: String,
        /// insert T (v, ...)[, (...)]; upsert T (v, ...); delete T KEY[, KEY] (one table).
        ops: String,
        /// Send even what the ledger will refuse (no permission, unknown table).
        #[arg(long)]
        no_check: bool,
        /// The writer (--from), fee and node.
        #[command(flatten)]
        common: Common,
    },
    /// A SELECT as of height --at (default: the replica's latest), on a member node; or one
    /// row by --table and --key with its Merkle proof, checked here.
    Query {
        /// The consortium id (64 hex, as `create` printed it).
        #[arg(long)]
        consortium: String,
        /// One read-only SELECT over the consortium's tables.
        sql: Option<String>,
        /// Read as of this checkpoint height (default: the replica's latest).
        #[arg(long)]
        at: Option<u64>,
        /// The table of the row read by --key.
        #[arg(long, requires = "key", conflicts_with = "sql")]
        table: Option<String>,
        /// The primary key as a literal: 7, 'ada', x'00ff', true.
        #[arg(long, requires = "table")]
        key: Option<String>,
        /// The member node asked (default: the first running member).
        #[arg(long)]
        via: Option<usize>,
        /// Print the node's JSON answer instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Check every member's replica: a rebuild from its action log equals it, and all members
    /// hold the same root at the lowest final height among them.
    Verify {
        /// The consortium id (64 hex, as `create` printed it).
        #[arg(long)]
        consortium: String,
    },
    /// The consortium transactions submitted from this directory, by height, with outcomes.
    History {
        /// The consortium id (64 hex, as `create` printed it).
        #[arg(long)]
        consortium: String,
        /// The node asked for each transaction's height and outcome.
        #[arg(long, default_value_t = 0)]
        via: usize,
    },
    /// Every consortium the node knows (sizes and hashes), or one's detail with --consortium.
    List {
        /// The consortium id (64 hex) whose detail to show.
        #[arg(long)]
        consortium: Option<String>,
        /// The node asked.
        #[arg(long, default_value_t = 0)]
        via: usize,
    },
    /// Offered load of consortium writes: applied-and-final per second, finality p50/p95.
    Load(crate::db_load::DbLoadArgs),
}

/// The signer and delivery of a consortium transaction.
#[derive(Clone, Debug, clap::Args)]
pub struct Common {
    /// The party that signs: a node index or `faucet`.
    #[arg(long, default_value = "0")]
    pub from: String,
    /// Native fee, in base units of the coin.
    #[arg(long, default_value_t = 1)]
    pub fee: u64,
    /// Node whose API receives it (default: the sender's node; node 0 for the faucet).
    #[arg(long)]
    pub via: Option<usize>,
    /// Seconds to wait for each transaction to be final at most.
    #[arg(long, default_value_t = 120)]
    pub wait_timeout: u64,
}

impl Common {
    fn via(&self) -> usize {
        self.via.unwrap_or_else(|| self.from.parse().unwrap_or(0))
    }
}

pub(crate) fn parse_consortium(text: &str) -> Result<Hash, TestnetError> {
    Hash::from_hex_text(text)
        .ok_or_else(|| crate::bad_argument("consortium", format!("{text:?}: not 64 hex")))
}

/// The key of a party label: a node index or `faucet`.
pub(crate) fn party_key(manifest: &Manifest, label: &str) -> Result<Keypair, TestnetError> {
    match label.trim() {
        "faucet" => read_key(&manifest.faucet_key),
        index => {
            let index: usize = index.parse().map_err(|_| {
                crate::bad_argument("from", format!("{index:?}: not a node index or faucet"))
            })?;
            read_key(&node_entry(manifest, index)?.key)
        }
    }
}

/// Comma-separated labels, each once.
fn labels(flag: &'static str, text: &str) -> Result<Vec<String>, TestnetError> {
    let mut out: Vec<String> = Vec::new();
    for label in text.split(',').map(str::trim) {
        if label.is_empty() || out.iter().any(|seen| seen == label) {
            return Err(crate::bad_argument(flag, format!("{text:?}: empty or repeated entry")));
        }
        out.push(label.to_string());
    }
    Ok(out)
}

/// Every key this testnet holds, labelled: the nodes', then the faucet's.
pub(crate) fn testnet_keys(manifest: &Manifest) -> Result<Vec<(String, Keypair)>, TestnetError> {
    let mut keys = Vec::new();
    for node in &manifest.nodes {
        keys.push((node.index.to_string(), read_key(&node.key)?));
    }
    keys.push(("faucet".to_string(), read_key(&manifest.faucet_key)?));
    Ok(keys)
}

/// The consortium as node `api` knows it.
pub(crate) fn detail_of(api: SocketAddr, id: &Hash) -> Result<ConsortiumDetail, TestnetError> {
    match http::get::<ConsortiumDetail>(api, &format!("/consortium/{id}")) {
        Ok(detail) => Ok(detail),
        Err(http::HttpError::Status { status: 404, .. }) => {
            Err(DbCliError::UnknownConsortium { id: id.to_string() }.into())
        }
        Err(error) => Err(error.into()),
    }
}

pub(crate) fn schema_of<'a>(
    detail: &'a ConsortiumDetail,
    table: &str,
) -> Result<&'a TableSchema, TestnetError> {
    detail.tables.iter().find(|schema| schema.name == table).ok_or_else(|| {
        DbCliError::UnknownTable {
            consortium: detail.summary.id.clone(),
            table: table.to_string(),
            tables: detail.summary.tables.join(", "),
        }
        .into()
    })
}

/// A signed consortium transaction the node accepted.
struct Posted {
    id: String,
    nonce: u64,
    from: AccountId,
    via: usize,
    submitted: Instant,
}

/// Sign the transaction `build(nonce, signer)` makes with `label`'s key and post it through
/// node `via`.
fn post(
    manifest: &Manifest,
    label: &str,
    via: usize,
    common: &Common,
    build: impl FnOnce(u64, &AccountId) -> Result<ConsortiumTx, TestnetError>,
) -> Result<Posted, TestnetError> {
    let api = reachable(manifest, via)?.api;
    let key = party_key(manifest, label)?;
    let from = key.account();
    let nonce = account_state(api, &from).map_err(|error| match error {
        TestnetError::Http(error) => no_answer(via, api, error),
        other => other,
    })?;
    let nonce = nonce.next_nonce;
    let consortium_tx = build(nonce, &from)?;
    let tx = TransactionBody {
        from,
        nonce,
        kind: TxKind::Consortium(Box::new(consortium_tx)),
        fee: common.fee,
        parents: parents_from(api)?,
        issued_at_ms: now_ms(),
    }
    .sign(&key)
    .map_err(|e| TestnetError::Invalid(e.to_string()))?;
    let bytes = tx.encode().map_err(|e| TestnetError::Invalid(e.to_string()))?;
    let body = api_types::SignedTxRequest { tx: hex::encode(bytes) };
    let submitted = Instant::now();
    let answer: api_types::TxAccepted =
        http::post(api, "/tx", &body).map_err(|error| no_answer(via, api, error))?;
    Ok(Posted { id: answer.id, nonce, from, via, submitted })
}

/// Wait until a posted transaction is final and applied; returns the height that applied it.
fn finish(
    manifest: &Manifest,
    posted: &Posted,
    common: &Common,
    what: &'static str,
) -> Result<u64, TestnetError> {
    let timeout = Duration::from_secs(common.wait_timeout);
    match wait_final(manifest, posted.via, &posted.id, posted.submitted, timeout) {
        Ok(seen) => Ok(seen.height),
        Err(TestnetError::FinalIgnored { id, .. }) => {
            Err(DbCliError::FinalIgnored { what, tx: id }.into())
        }
        Err(error) => Err(error),
    }
}

/// Post, journal (ignored transactions belong in the history too), then wait until final.
fn submit(
    manifest: &Manifest,
    local: &mut LocalConsortium,
    label: &str,
    common: &Common,
    kind: &'static str,
    what: String,
    build: impl FnOnce(u64, &AccountId) -> Result<ConsortiumTx, TestnetError>,
) -> Result<(Posted, u64), TestnetError> {
    let posted = post(manifest, label, common.via(), common, build)?;
    let entry = JournalEntry { tx: posted.id.clone(), kind: kind.into(), from: label.into(), what };
    local.record(&manifest.dir, entry)?;
    let height = finish(manifest, &posted, common, kind)?;
    Ok((posted, height))
}

/// Run one db command; returns what to print on stdout.
pub fn run(manifest: &Manifest, command: &DbCommand) -> Result<String, TestnetError> {
    match command {
        DbCommand::Create { name, parties, members, tables, quorum, common } => {
            create(manifest, name, parties, members, tables, *quorum, common)
        }
        DbCommand::Grant { consortium, account, table, approvers, common } => {
            let label = account;
            let account = resolve_account(manifest, account)?;
            let change = PermissionChange::Grant { account, table: table.clone() };
            let args = ChangeArgs { consortium, label, approvers: approvers.as_deref(), common };
            change_permission(manifest, &args, Some(table), change)
        }
        DbCommand::Deny { consortium, account, table, approvers, common } => {
            let label = account;
            let account = resolve_account(manifest, account)?;
            let change = PermissionChange::Deny { account, table: table.clone() };
            let args = ChangeArgs { consortium, label, approvers: approvers.as_deref(), common };
            change_permission(manifest, &args, table.as_ref(), change)
        }
        DbCommand::Approval { consortium, table, off, approvers, common } => {
            let change = PermissionChange::EntryApproval { table: table.clone(), required: !off };
            let args =
                ChangeArgs { consortium, label: table, approvers: approvers.as_deref(), common };
            change_permission(manifest, &args, Some(table), change)
        }
        DbCommand::Vote { consortium, entry, deny, common } => {
            vote(manifest, &parse_consortium(consortium)?, entry, *deny, common)
        }
        DbCommand::Exec { consortium, ops, no_check, common } => {
            exec(manifest, &parse_consortium(consortium)?, ops, *no_check, common)
        }
        DbCommand::Query { consortium, sql, at, table, key, via, json } => {
            let id = parse_consortium(consortium)?;
            match (sql, table, key) {
                (Some(sql), None, None) => db_read::query(manifest, &id, sql, *at, *via, *json),
                (None, Some(table), Some(key)) => {
                    db_read::query_row(manifest, &id, table, key, *at, *via, *json)
                }
                _ => Err(crate::bad_argument("table", "give a SQL SELECT, or --table and --key")),
            }
        }
        DbCommand::Verify { consortium } => {
            db_read::verify(manifest, &parse_consortium(consortium)?)
        }
        DbCommand::History { consortium, via } => {
            db_read::history(manifest, &parse_consortium(consortium)?, *via)
        }
        DbCommand::List { consortium, via } => {
            let api = reachable(manifest, *via)?.api;
            let text = match consortium {
                Some(id) => serde_json::to_string_pretty(&detail_of(api, &parse_consortium(id)?)?),
                None => serde_json::to_string_pretty(&http::get::<api_types::ConsortiumList>(
                    api,
                    "/consortia",
                )?),
            };
            text.map_err(|error| TestnetError::Invalid(error.to_string()))
        }
        DbCommand::Load(args) => {
            let report = crate::db_load::load(manifest, args)?;
            serde_json::to_string_pretty(&report)
                .map_err(|error| TestnetError::Invalid(error.to_string()))
        }
    }
}

fn create(
    manifest: &Manifest,
    name: &str,
    parties: &str,
    members: &str,
    tables: &[String],
    quorum: u16,
    common: &Common,
) -> Result<String, TestnetError> {
    let party_labels = labels("parties", parties)?;
    if !party_labels.contains(&common.from) {
        return Err(crate::bad_argument(
            "from",
            format!("{} is not one of --parties", common.from),
        ));
    }
    let party_accounts = party_labels
        .iter()
        .map(|label| party_key(manifest, label).map(|key| key.account()))
        .collect::<Result<_, _>>()?;
    let mut member_keys = std::collections::BTreeMap::new();
    for label in labels("members", members)? {
        let index: usize = label
            .parse()
            .map_err(|_| crate::bad_argument("members", format!("{label:?}: not a node index")))?;
        let key = read_key(&node_entry(manifest, index)?.key)?;
        // The node derives its member secret from its seed the same way (service.rs).
        let public = MemberSecret::derived_from_seed(&key.seed()).public();
        member_keys.insert(key.account(), public);
    }
    let schemas = tables
        .iter()
        .map(|text| db_syntax::parse_table(text))
        .collect::<Result<Vec<_>, _>>()
        .map_err(DbCliError::from)?;
    let data_key = DataKey(random_bytes()?);
    let dir = manifest.dir.clone();
    let name = name.to_string();
    let posted = post(manifest, &common.from, common.via(), common, |nonce, from| {
        let id = consortium_id(from, nonce);
        let mut wrapped = std::collections::BTreeMap::new();
        for (account, public) in &member_keys {
            let wrapping =
                keys::wrap(&data_key, &id, 0, public, random_bytes()?).map_err(|error| {
                    TestnetError::Invalid(format!("wrapping the data key: {error}"))
                })?;
            wrapped.insert(*account, wrapping);
        }
        let create = CreateConsortium {
            name: name.clone(),
            parties: party_accounts,
            members: member_keys.clone(),
            tables: schemas,
            quorum,
            wrapped,
        };
        // The ledger's own checks, before anything is signed: a bad quorum, name or table is
        // a usage error here instead of an ignored transaction.
        Consortium::create(&create, from, id).map_err(|error| {
            crate::bad_argument("parties/members/table/quorum", error.to_string())
        })?;
        // The key is on disk before the creation can be on chain.
        LocalConsortium::new(&id, &name, &data_key).save(&dir)?;
        Ok(ConsortiumTx::Create(create))
    })?;
    let id = consortium_id(&posted.from, posted.nonce);
    let mut local = LocalConsortium::load(&manifest.dir, &id)?;
    let what = format!("create {name}: parties {parties}, members {members}, quorum {quorum}");
    let entry = JournalEntry {
        tx: posted.id.clone(),
        kind: "create".into(),
        from: common.from.clone(),
        what,
    };
    local.record(&manifest.dir, entry)?;
    finish(manifest, &posted, common, "create")?;
    Ok(id.to_string())
}

struct ChangeArgs<'a> {
    consortium: &'a str,
    /// How the change's subject was named (an account label, a table).
    label: &'a str,
    approvers: Option<&'a str>,
    common: &'a Common,
}

/// Propose `change` from `--from`, then approve it from enough other parties.
fn change_permission(
    manifest: &Manifest,
    args: &ChangeArgs,
    table: Option<&String>,
    change: PermissionChange,
) -> Result<String, TestnetError> {
    let id = parse_consortium(args.consortium)?;
    let common = args.common;
    let api = reachable(manifest, common.via())?.api;
    let detail = detail_of(api, &id)?;
    if let Some(table) = table {
        schema_of(&detail, table)?;
    }
    let party = |label: &str| -> Result<(String, AccountId), TestnetError> {
        let account = party_key(manifest, label)?.account();
        if !detail.parties.contains(&account.to_hex()) {
            return Err(
                DbCliError::NotAParty { party: label.into(), consortium: id.to_string() }.into()
            );
        }
        Ok((label.to_string(), account))
    };
    let proposer = party(&common.from)?;
    let needed = usize::from(detail.summary.quorum).saturating_sub(1);
    let approvers: Vec<(String, AccountId)> = match args.approvers {
        Some(text) => {
            labels("approvers", text)?.iter().map(|label| party(label)).collect::<Result<_, _>>()?
        }
        None => testnet_keys(manifest)?
            .into_iter()
            .filter(|(label, key)| {
                *label != proposer.0 && detail.parties.contains(&key.account().to_hex())
            })
            .map(|(label, key)| (label, key.account()))
            .take(needed)
            .collect(),
    };
    if approvers.iter().any(|(label, _)| *label == proposer.0) {
        // The proposal counts as the proposer's approval; a second one is refused on chain.
        return Err(crate::bad_argument("approvers", format!("names the proposer {}", proposer.0)));
    }
    if approvers.len() < needed {
        return Err(DbCliError::NotEnoughApprovers {
            quorum: detail.summary.quorum,
            needed,
            available: approvers.len(),
        }
        .into());
    }
    check_changes_something(&detail, &change)?;
    let mut local = LocalConsortium::load(&manifest.dir, &id)?;
    let described = describe(&change, args.label);
    let (proposed, mut applied_at) =
        submit(manifest, &mut local, &proposer.0, common, "propose", described.clone(), |_, _| {
            Ok(ConsortiumTx::Propose { consortium: id, change: change.clone() })
        })?;
    let proposal = proposal_id(&id, &proposed.from, proposed.nonce);
    for (label, _) in approvers.iter().take(needed) {
        let approver = Common { from: label.clone(), ..common.clone() };
        let what = format!("approve {}: {described}", proposal.short());
        let (_, height) =
            submit(manifest, &mut local, label, &approver, "approve", what, |_, _| {
                Ok(ConsortiumTx::Approve { consortium: id, proposal })
            })?;
        applied_at = height;
    }
    // The last approval is final on the approver's node; the proposer's node may need a
    // moment to connect that checkpoint.
    let deadline = Instant::now() + Duration::from_secs(10);
    while check_changes_something(&detail_of(api, &id)?, &change).is_ok() {
        if Instant::now() >= deadline {
            return Err(TestnetError::Invalid(format!(
                "every approval is final, yet node {} does not show the change: {described}",
                common.via()
            )));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(format!("{described}: applied at height {applied_at} (proposal {proposal})"))
}

fn describe(change: &PermissionChange, label: &str) -> String {
    match change {
        PermissionChange::Grant { table, .. } => format!("grant {label} on {table}"),
        PermissionChange::Deny { table: Some(table), .. } => format!("deny {label} on {table}"),
        PermissionChange::Deny { table: None, .. } => format!("deny {label} on every table"),
        PermissionChange::EntryApproval { table, required: true } => {
            format!("require approval of each entry of {table}")
        }
        PermissionChange::EntryApproval { table, required: false } => {
            format!("stop requiring approval of entries of {table}")
        }
        _ => format!("{change:?}"),
    }
}

/// Refuse a grant of what the account has, or a deny of what it lacks (the ledger refuses
/// both, and they would hold a proposal slot).
fn check_changes_something(
    detail: &ConsortiumDetail,
    change: &PermissionChange,
) -> Result<(), TestnetError> {
    let writes = |account: &AccountId, table: &str| {
        detail.writers.get(table).is_some_and(|writers| writers.contains(&account.to_hex()))
    };
    let nothing = match change {
        PermissionChange::Grant { account, table } => {
            writes(account, table).then(|| format!("{account} may already write {table}"))
        }
        PermissionChange::Deny { account, table: Some(table) } => {
            (!writes(account, table)).then(|| format!("{account} may not write {table} already"))
        }
        PermissionChange::Deny { account, table: None } => {
            let any = detail.tables.iter().any(|schema| writes(account, &schema.name));
            (!any).then(|| format!("{account} may write no table already"))
        }
        PermissionChange::EntryApproval { table, required } => {
            let already = detail.approval_tables.contains(table) == *required;
            already.then(|| format!("{table} already is as asked (approval required: {required})"))
        }
        _ => None,
    };
    match nothing {
        Some(reason) => Err(DbCliError::NothingToChange { reason }.into()),
        None => Ok(()),
    }
}

/// The running member nodes of a consortium, by testnet index.
pub(crate) fn member_nodes(manifest: &Manifest, detail: &ConsortiumDetail) -> Vec<usize> {
    manifest
        .nodes
        .iter()
        .filter(|node| detail.members.iter().any(|member| member.account == node.account))
        .filter(|node| reachable(manifest, node.index).is_ok())
        .map(|node| node.index)
        .collect()
}

fn exec(
    manifest: &Manifest,
    id: &Hash,
    ops: &str,
    no_check: bool,
    common: &Common,
) -> Result<String, TestnetError> {
    let (table, ops) = db_syntax::parse_ops(ops).map_err(DbCliError::from)?;
    let api = reachable(manifest, common.via())?.api;
    let detail = detail_of(api, id)?;
    let mut local = LocalConsortium::load(&manifest.dir, id)?;
    let key = local.key(&manifest.dir, detail.summary.key_epoch)?;
    let action = Action { table: table.clone(), ops, salt: random_bytes()? };
    let signer = party_key(manifest, &common.from)?.account();
    if !no_check {
        let schema = schema_of(&detail, &table)?;
        action.validate(schema).map_err(|error| DbCliError::BadRow {
            table: table.clone(),
            reason: error.to_string(),
        })?;
        let may_write = detail.writers.get(&table).is_some_and(|w| w.contains(&signer.to_hex()));
        if !may_write {
            return Err(DbCliError::NoWritePermission {
                account: signer.to_hex(),
                table,
                consortium: id.to_string(),
            }
            .into());
        }
    }
    let sealed = action
        .seal(&key, *id, detail.summary.key_epoch)
        .map_err(|error| TestnetError::Invalid(format!("sealing the action: {error}")))?;
    let what = format!("{} op(s) on {table}", action.ops.len());
    let (posted, height) =
        submit(manifest, &mut local, &common.from, common, "write", what, |_, _| {
            Ok(ConsortiumTx::Write(sealed))
        })?;
    if detail.approval_tables.contains(&table) {
        // The write waits for the parties: nothing reaches a replica yet.
        let entry = entry_id(id, &posted.from, posted.nonce);
        return Ok(format!("{}\npending entry {entry} (db vote --entry {entry})", posted.id));
    }
    if let Some(&node) = member_nodes(manifest, &detail).first() {
        check_in_replica(manifest, node, id, &detail, &action, &posted.id, height)?;
    }
    Ok(posted.id)
}

/// Approve (or deny) a pending entry as `--from`; says whether that decided it.
fn vote(
    manifest: &Manifest,
    id: &Hash,
    entry: &str,
    deny: bool,
    common: &Common,
) -> Result<String, TestnetError> {
    let entry = Hash::from_hex_text(entry)
        .ok_or_else(|| crate::bad_argument("entry", format!("{entry:?}: not 64 hex")))?;
    let api = reachable(manifest, common.via())?.api;
    let detail = detail_of(api, id)?;
    let key = entry.to_string();
    let Some(pending) = detail.pending_entries.iter().find(|pending| pending.id == key) else {
        return Err(DbCliError::UnknownEntry { entry: key, consortium: id.to_string() }.into());
    };
    let voter = party_key(manifest, &common.from)?.account().to_hex();
    if pending.approvals.contains(&voter) || pending.denials.contains(&voter) {
        return Err(DbCliError::AlreadyVoted { party: common.from.clone(), entry: key }.into());
    }
    let mut local = LocalConsortium::load(&manifest.dir, id)?;
    let (kind, verb) = if deny { ("deny-entry", "deny") } else { ("approve-entry", "approve") };
    let what = format!("{verb} entry {} on {}", entry.short(), pending.table);
    let (_, height) = submit(manifest, &mut local, &common.from, common, kind, what, |_, _| {
        Ok(if deny {
            ConsortiumTx::DenyEntry { consortium: *id, entry }
        } else {
            ConsortiumTx::ApproveEntry { consortium: *id, entry }
        })
    })?;
    let still = detail_of(api, id)?.pending_entries.iter().any(|pending| pending.id == key);
    if !still && !deny {
        for node in member_nodes(manifest, &detail) {
            wait_for_height(manifest, node, height)?;
        }
    }
    let outcome = match (still, deny) {
        (true, _) => "still pending",
        (false, false) => "passed: it applies at this height",
        (false, true) => "dropped",
    };
    Ok(format!("{verb} entry {entry} at height {height}: {outcome}"))
}

/// Wait until member `node` has connected `height` (its replica applies that checkpoint's
/// actions as it connects it), 30 s at most.
fn wait_for_height(manifest: &Manifest, node: usize, height: u64) -> Result<(), TestnetError> {
    let api = reachable(manifest, node)?.api;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status: api_types::Status = http::get(api, "/status")?;
        if status.height >= height {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(TestnetError::Invalid(format!(
                "member node {node} is still at height {} < {} after 30 s",
                status.height, height
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// After a write is final at `height`: member `node`'s replica holds, at that height,
/// exactly the rows the action wrote (and not the keys it deleted).
fn check_in_replica(
    manifest: &Manifest,
    node: usize,
    id: &Hash,
    detail: &ConsortiumDetail,
    action: &Action,
    tx: &str,
    height: u64,
) -> Result<(), TestnetError> {
    let schema = schema_of(detail, &action.table)?;
    wait_for_height(manifest, node, height)?;
    // The last operation on each key decides what the row is after the action.
    let mut expected: std::collections::BTreeMap<Value, Option<Vec<Value>>> = Default::default();
    for op in &action.ops {
        match op {
            RowOp::Insert { row } | RowOp::Upsert { row } => {
                let key = row.get(schema.primary_key).cloned().unwrap_or(Value::Null);
                expected.insert(key, Some(row.clone()));
            }
            RowOp::Delete { key } => {
                expected.insert(key.clone(), None);
            }
        }
    }
    for (key, row) in expected {
        let answer = db_read::row_answer(manifest, node, id, &action.table, &key, Some(height))?;
        if answer.row != row {
            return Err(DbCliError::NotInReplica {
                tx: tx.to_string(),
                height,
                node,
                key: format_value(&key),
            }
            .into());
        }
    }
    Ok(())
}
