//! The API's OpenAPI 3.0 document, generated from the types of [`crate::api_types`].
//!
//! Model: [`ROUTES`] is the one table of what the router serves (method, path, parameters,
//! body, answer, whether the operator token is needed); the schemas come from the types
//! themselves (`schemars`, with their doc comments as descriptions), so a field added to a
//! response type appears in the document without anyone editing it. A test pins the document
//! (an insta snapshot, so an API break shows in review) and another checks that every
//! `.route(...)` of the router is in the table. Served at `GET /openapi.json`; clients and
//! `schemathesis` read it from there.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

use crate::api_types::*;

/// HTTP method of a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// A read.
    Get,
    /// A submission or a query with a body.
    Post,
}

/// Where a route parameter is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamIn {
    /// A `{name}` segment of the path.
    Path,
    /// A `?name=` of the query string.
    Query,
}

/// What a parameter holds, as the node parses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// An unsigned integer at most this.
    Integer(u64),
    /// 64 lowercase or uppercase hex digits (a hash, an account).
    Hex32,
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// A string matching this regular expression.
    Pattern(&'static str),
}

/// One parameter of a route.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// Its name in the path template or the query string.
    pub name: &'static str,
    /// Path or query.
    pub place: ParamIn,
    /// What it holds.
    pub description: &'static str,
    /// Its type and range.
    pub kind: ParamKind,
}

/// A schema of a body, generated on demand from its type.
pub type SchemaOf = fn(&mut SchemaGenerator) -> Schema;

/// What a route answers with on success.
#[derive(Clone, Copy)]
pub enum Answer {
    /// A JSON body of this type.
    Json(SchemaOf),
    /// JSON whose shape another standard defines (JSON-RPC, this document), described in words.
    AnyJson(&'static str),
    /// A text media type (HTML, Prometheus text), described in words.
    Text(&'static str, &'static str),
}

/// One route of the API.
#[derive(Clone, Copy)]
pub struct Route {
    /// GET or POST.
    pub method: Method,
    /// The path template as the router writes it (`/unit/{id}`).
    pub path: &'static str,
    /// One line for the document's summary.
    pub summary: &'static str,
    /// Path and query parameters.
    pub params: &'static [Param],
    /// The JSON request body, if the route takes one.
    pub body: Option<SchemaOf>,
    /// The success answer.
    pub answer: Answer,
    /// Whether the route (or, for the faucet forms, part of it) needs the operator's bearer
    /// token.
    pub token: bool,
}

fn schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// `/control/{action}` bodies: one type per action.
fn control_body(generator: &mut SchemaGenerator) -> Schema {
    let one_of: Vec<Schema> = vec![
        generator.subschema_for::<PartitionRequest>(),
        generator.subschema_for::<LinkRequest>(),
        generator.subschema_for::<DelayRequest>(),
        generator.subschema_for::<LossRequest>(),
        generator.subschema_for::<EmptyRequest>(),
    ];
    let mut object = Map::new();
    object.insert("oneOf".into(), serde_json::to_value(one_of).unwrap_or(Value::Null));
    Schema::from(object)
}

/// `POST /rpc`: a JSON-RPC 2.0 request or batch, answered in kind (docs/evm.md).
fn json_rpc(_generator: &mut SchemaGenerator) -> Schema {
    let mut object = Map::new();
    object.insert(
        "description".into(),
        Value::String(
            "A JSON-RPC 2.0 request object or a batch (array) of them; the Ethereum methods \
             vein serves are listed in docs/evm.md."
                .into(),
        ),
    );
    Schema::from(object)
}

const LIMIT: Param = Param {
    name: "limit",
    place: ParamIn::Query,
    description: "Most rows to return (default 20, capped by the node).",
    kind: ParamKind::Integer(u64::MAX),
};
const ID: Param = Param {
    name: "id",
    place: ParamIn::Path,
    description: "A 64-hex-digit id (a unit, a checkpoint, a consortium, a task or a token).",
    kind: ParamKind::Hex32,
};
const CHAIN: Param = Param {
    name: "chain",
    place: ParamIn::Path,
    description: "A chain id: the 64-hex-digit id of its genesis.",
    kind: ParamKind::Hex32,
};
const FROM: Param = Param {
    name: "from",
    place: ParamIn::Query,
    description: "The height the anchor extends (default 0, genesis).",
    kind: ParamKind::Integer(u64::MAX),
};
const INTERVAL: Param = Param {
    name: "interval",
    place: ParamIn::Query,
    description: "The anchor interval: the segment ends at a multiple of it (default 1).",
    kind: ParamKind::Integer(u64::MAX),
};
const ACCOUNT: Param = Param {
    name: "account",
    place: ParamIn::Path,
    description: "A 64-hex-digit account (an ed25519 public key).",
    kind: ParamKind::Hex32,
};
const FILE_ID: Param = Param {
    name: "file_id",
    place: ParamIn::Path,
    description: "The 64-hex-digit id of a stored file.",
    kind: ParamKind::Hex32,
};
const INDEX: Param = Param {
    name: "index",
    place: ParamIn::Path,
    description: "A shard's index, 0 to 255.",
    kind: ParamKind::Integer(255),
};

const ROUND: Param = Param {
    name: "round",
    place: ParamIn::Path,
    description: "A learning task's round, from 0.",
    kind: ParamKind::Integer(u32::MAX as u64),
};

const fn get(
    path: &'static str,
    summary: &'static str,
    params: &'static [Param],
    answer: SchemaOf,
) -> Route {
    Route {
        method: Method::Get,
        path,
        summary,
        params,
        body: None,
        answer: Answer::Json(answer),
        token: false,
    }
}

/// A static text asset of the explorer.
const fn text(path: &'static str, kind: &'static str, description: &'static str) -> Route {
    Route {
        method: Method::Get,
        path,
        summary: description,
        params: &[],
        body: None,
        answer: Answer::Text(kind, description),
        token: false,
    }
}

const fn post(
    path: &'static str,
    summary: &'static str,
    params: &'static [Param],
    body: SchemaOf,
    answer: SchemaOf,
    token: bool,
) -> Route {
    Route {
        method: Method::Post,
        path,
        summary,
        params,
        body: Some(body),
        answer: Answer::Json(answer),
        token,
    }
}

/// Every route the router serves, in the router's order.
pub const ROUTES: &[Route] = &[
    Route {
        method: Method::Get,
        path: "/",
        summary: "The explorer page (HTML; it polls the JSON routes).",
        params: &[],
        body: None,
        answer: Answer::Text("text/html", "The explorer page."),
        token: false,
    },
    text("/explorer/style.css", "text/css", "The explorer's stylesheet (light and dark themes)."),
    text("/explorer/app.js", "text/javascript", "The explorer's router, search and item pages."),
    text("/explorer/graph.js", "text/javascript", "The explorer's DAG and fork-tree drawings."),
    text("/explorer/panels.js", "text/javascript", "The explorer's front-page panels."),
    get(
        "/explorer/config",
        "The explorer's operator configuration: title, theme, panels, links.",
        &[],
        schema::<ExplorerConfig>,
    ),
    get(
        "/forks",
        "The checkpoint tree near the head: the active chain and recent side branches.",
        &[LIMIT],
        schema::<ForkTree>,
    ),
    get(
        "/checkpoint/{id}",
        "One checkpoint on any branch, with the units it confirmed.",
        &[ID],
        schema::<CheckpointDetail>,
    ),
    get(
        "/evm/receipts",
        "The newest executed Ethereum transactions and the deployed contracts' count.",
        &[LIMIT],
        schema::<EvmReceipts>,
    ),
    get(
        "/search",
        "What a term names: a unit, checkpoint, account, token, contract, consortium or task.",
        &[Param {
            name: "q",
            place: ParamIn::Query,
            description: "An id (64 hex), an EVM address (0x and 40 hex) or an Ethereum \
                          transaction hash (0x and 64 hex).",
            kind: ParamKind::Pattern("^(0x)?[0-9a-fA-F]{40,64}$"),
        }],
        schema::<SearchResults>,
    ),
    Route {
        method: Method::Get,
        path: "/openapi.json",
        summary: "This document.",
        params: &[],
        body: None,
        answer: Answer::AnyJson("The OpenAPI 3.0 document of this API."),
        token: false,
    },
    get(
        "/ready",
        "200 once the peer listener, the driver and the API are up.",
        &[],
        schema::<Ready>,
    ),
    get(
        "/status",
        "Height, head, finality, peers, DAG size, tips and own balance.",
        &[],
        schema::<Status>,
    ),
    get(
        "/balance/{account}",
        "An account's balance and next nonce.",
        &[ACCOUNT],
        schema::<AccountBalance>,
    ),
    post(
        "/tx",
        "Submit a signed transaction `{tx}`, or (token) a faucet transfer `{to, amount, fee}`.",
        &[],
        schema::<TxRequest>,
        schema::<TxAccepted>,
        true,
    ),
    get(
        "/txs",
        "The transactions this node accepted last, newest first.",
        &[LIMIT],
        schema::<RecentTxs>,
    ),
    post(
        "/txs",
        "A batch of signed transactions and/or (token) faucet transfers.",
        &[],
        schema::<TxBatchRequest>,
        schema::<TxBatchResponse>,
        true,
    ),
    get("/dag", "The units nearest the tips, with their parents.", &[LIMIT], schema::<DagView>),
    get("/accounts", "Ledger accounts, richest first.", &[LIMIT], schema::<Accounts>),
    get(
        "/unit/{id}",
        "A transaction, its confirmation, finality and local timings.",
        &[ID],
        schema::<Unit>,
    ),
    post(
        "/units",
        "Status and local timings of many transactions.",
        &[],
        schema::<UnitsRequest>,
        schema::<UnitsResponse>,
        false,
    ),
    post(
        "/ledger/history",
        "Units of some senders the active chain confirmed from a height on, and their balances.",
        &[],
        schema::<LedgerHistoryRequest>,
        schema::<LedgerHistory>,
        false,
    ),
    get("/checkpoints", "The active chain, newest first.", &[LIMIT], schema::<Checkpoints>),
    get("/tips", "The current DAG tips.", &[], schema::<Tips>),
    get(
        "/parents",
        "Parent pairs from the node's tip selection (503 while backlogged).",
        &[Param {
            name: "count",
            place: ParamIn::Query,
            description: "Pairs to return.",
            kind: ParamKind::Integer(u64::MAX),
        }],
        schema::<Parents>,
    ),
    Route {
        method: Method::Get,
        path: "/metrics",
        summary: "Prometheus metrics.",
        params: &[],
        body: None,
        answer: Answer::Text("text/plain", "Prometheus text exposition format."),
        token: false,
    },
    post(
        "/control/{action}",
        "Fault injection: partition, heal, delay, loss or link (token).",
        &[Param {
            name: "action",
            place: ParamIn::Path,
            description: "The fault to inject.",
            kind: ParamKind::OneOf(&["partition", "heal", "delay", "loss", "link"]),
        }],
        control_body,
        schema::<ControlResponse>,
        true,
    ),
    Route {
        method: Method::Post,
        path: "/rpc",
        summary: "The Ethereum JSON-RPC (docs/evm.md).",
        params: &[],
        body: Some(json_rpc),
        answer: Answer::AnyJson("A JSON-RPC 2.0 response or a batch of them (errors too are 200)."),
        token: false,
    },
    get(
        "/contract/{file_id}",
        "The active storage contract of a file.",
        &[FILE_ID],
        schema::<Contract>,
    ),
    get("/shard/{file_id}/{index}", "A shard this node holds.", &[FILE_ID, INDEX], schema::<Shard>),
    post(
        "/shard/{file_id}/{index}",
        "Keep a shard this node is assigned (its bytes must match the contract's root).",
        &[FILE_ID, INDEX],
        schema::<Shard>,
        schema::<ShardStored>,
        false,
    ),
    get(
        "/consortia",
        "Every consortium's sizes, key epoch, action count and log hash.",
        &[],
        schema::<ConsortiumList>,
    ),
    get(
        "/consortium/{id}",
        "One consortium's parties, keys, schemas, writers and proposals.",
        &[ID],
        schema::<ConsortiumDetail>,
    ),
    post(
        "/consortium/{id}/query",
        "A read-only SQL query of this node's replica, at a height (token).",
        &[ID],
        schema::<ConsortiumQuery>,
        schema::<ConsortiumQueryAnswer>,
        true,
    ),
    post(
        "/consortium/{id}/row",
        "One row's history from this node's replica (token).",
        &[ID],
        schema::<ConsortiumRowRequest>,
        schema::<ConsortiumRowAnswer>,
        true,
    ),
    get(
        "/consortium/{id}/verify",
        "This node's replica against the chain's roots.",
        &[ID],
        schema::<ConsortiumVerify>,
    ),
    get(
        "/consortium/{id}/attestations",
        "Certified roots, divergences and this node's verdicts.",
        &[ID],
        schema::<ConsortiumAttestations>,
    ),
    get("/fl/tasks", "Federated-learning tasks.", &[], schema::<FlTaskList>),
    get(
        "/fl/task/{id}",
        "One task: terms, escrow, rounds and payments.",
        &[ID],
        schema::<FlTaskDetail>,
    ),
    post(
        "/fl/task/{id}/update",
        "Keep a participant's encoded update; its hash must equal its commit on this node's \
         chain for the task's open round.",
        &[ID],
        schema::<FlUpdatePost>,
        schema::<FlUpdateStored>,
        false,
    ),
    get(
        "/fl/task/{id}/updates/{round}",
        "The updates of a round posted to this node.",
        &[ID, ROUND],
        schema::<FlUpdates>,
    ),
    get("/tokens", "Business tokens.", &[LIMIT], schema::<TokenList>),
    get("/token/{id}", "One token.", &[ID], schema::<TokenSummary>),
    get(
        "/token/{id}/balance/{account}",
        "An account's balance of a token.",
        &[ID, ACCOUNT],
        schema::<TokenBalance>,
    ),
    get(
        "/sidechains",
        "The chains this ledger follows as a light client, with their best and final headers.",
        &[],
        schema::<SideChainList>,
    ),
    get(
        "/sidechain/headers",
        "This chain's active checkpoints past a height, up to a multiple of the anchor \
         interval: the headers of an anchor on another chain.",
        &[FROM, INTERVAL, LIMIT],
        schema::<AnchorSegment>,
    ),
    get("/peg", "Peg state: escrows, wrapped tokens, outbox, claims.", &[LIMIT], schema::<PegView>),
    get(
        "/peg/proofs/{chain}",
        "Merkle proofs of the newest outbox entries addressed to a chain, at the head.",
        &[CHAIN, LIMIT],
        schema::<PegProofs>,
    ),
    post(
        "/peg/claim/check",
        "Whether a proof's claim (mint or release) would apply here now, or why not.",
        &[],
        schema::<PegClaimCheck>,
        schema::<PegClaimVerdict>,
        false,
    ),
    get(
        "/sidechain/pin",
        "The anchor pin in force (a checkpoint final as an anchor on the main chain) and its \
         counters.",
        &[],
        schema::<PinView>,
    ),
    post(
        "/sidechain/pin",
        "Pin a checkpoint that is final as an anchor on the main chain: fork choice never \
         leaves a branch holding it. 409 when it conflicts with a pin, 422 when it does not fit \
         the headers held.",
        &[],
        schema::<PinRequest>,
        schema::<PinAnswer>,
        true,
    ),
];

/// The document's top level (OpenAPI 3.0.3).
#[derive(Serialize)]
struct Document {
    openapi: &'static str,
    info: Info,
    paths: BTreeMap<&'static str, BTreeMap<&'static str, Operation>>,
    components: Components,
}

#[derive(Serialize)]
struct Info {
    title: &'static str,
    version: &'static str,
    description: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Components {
    schemas: Map<String, Value>,
    security_schemes: BTreeMap<&'static str, SecurityScheme>,
}

/// One operation (a method of a path). Fields are declared in the document's key order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Operation {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    parameters: Vec<Parameter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_body: Option<RequestBody>,
    responses: BTreeMap<&'static str, Response>,
    /// The token is optional on the mixed routes (`/tx`, `/txs`): an empty requirement beside
    /// the bearer one says either is accepted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    security: Vec<BTreeMap<&'static str, Vec<&'static str>>>,
    summary: &'static str,
}

#[derive(Serialize)]
struct Parameter {
    description: &'static str,
    #[serde(rename = "in")]
    place: &'static str,
    name: &'static str,
    required: bool,
    schema: ParamSchema,
}

#[derive(Serialize)]
struct ParamSchema {
    #[serde(rename = "enum", skip_serializing_if = "Option::is_none")]
    words: Option<&'static [&'static str]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    maximum: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    minimum: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pattern: Option<&'static str>,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct RequestBody {
    content: BTreeMap<&'static str, MediaType>,
    required: bool,
}

#[derive(Serialize)]
struct Response {
    content: BTreeMap<&'static str, MediaType>,
    description: &'static str,
}

#[derive(Serialize)]
struct MediaType {
    schema: Value,
}

#[derive(Serialize)]
struct SecurityScheme {
    scheme: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
}

fn content(kind: &'static str, schema: Value) -> BTreeMap<&'static str, MediaType> {
    BTreeMap::from([(kind, MediaType { schema })])
}

fn param_schema(kind: ParamKind) -> ParamSchema {
    let base = ParamSchema { words: None, maximum: None, minimum: None, pattern: None, kind: "" };
    match kind {
        ParamKind::Integer(u64::MAX) => ParamSchema { minimum: Some(0), kind: "integer", ..base },
        ParamKind::Integer(maximum) => {
            ParamSchema { minimum: Some(0), maximum: Some(maximum), kind: "integer", ..base }
        }
        ParamKind::Hex32 => {
            ParamSchema { pattern: Some("^[0-9a-fA-F]{64}$"), kind: "string", ..base }
        }
        ParamKind::OneOf(words) => ParamSchema { words: Some(words), kind: "string", ..base },
        ParamKind::Pattern(pattern) => {
            ParamSchema { pattern: Some(pattern), kind: "string", ..base }
        }
    }
}

fn operation(route: &Route, generator: &mut SchemaGenerator) -> Operation {
    let parameters = route
        .params
        .iter()
        .map(|param| Parameter {
            description: param.description,
            place: match param.place {
                ParamIn::Path => "path",
                ParamIn::Query => "query",
            },
            name: param.name,
            required: param.place == ParamIn::Path,
            schema: param_schema(param.kind),
        })
        .collect();
    let ok = match route.answer {
        Answer::Json(of) => Response {
            content: content("application/json", of(generator).to_value()),
            description: "Success.",
        },
        Answer::AnyJson(description) => Response {
            content: content("application/json", Value::Object(Map::new())),
            description,
        },
        Answer::Text(kind, description) => Response {
            content: content(kind, generator.subschema_for::<String>().to_value()),
            description,
        },
    };
    let error = generator.subschema_for::<ErrorBody>().to_value();
    let failure =
        |description| Response { content: content("application/json", error.clone()), description };
    let responses = BTreeMap::from([
        ("200", ok),
        ("4XX", failure("Refused: the body says why (`{\"error\": ...}`).")),
        ("503", failure("The node is busy or shutting down; retry later.")),
    ]);
    let request_body = route.body.map(|body| RequestBody {
        content: content("application/json", body(generator).to_value()),
        required: true,
    });
    let security = if route.token {
        vec![BTreeMap::from([("bearer", Vec::new())]), BTreeMap::new()]
    } else {
        Vec::new()
    };
    Operation { parameters, request_body, responses, security, summary: route.summary }
}

/// The OpenAPI document of the API, as pretty JSON. Deterministic: paths, methods and schemas
/// are written in sorted order.
pub fn document() -> String {
    let mut generator: SchemaGenerator = SchemaSettings::openapi3().into_generator();
    let mut paths: BTreeMap<&'static str, BTreeMap<&'static str, Operation>> = BTreeMap::new();
    for route in ROUTES {
        let method = match route.method {
            Method::Get => "get",
            Method::Post => "post",
        };
        let operation = operation(route, &mut generator);
        paths.entry(route.path).or_default().insert(method, operation);
    }
    let document = Document {
        openapi: "3.0.3",
        info: Info {
            title: "vein node API",
            version: env!("CARGO_PKG_VERSION"),
            description: "The JSON HTTP API of a vein node (docs/api.md). Reads are open; \
                          routes marked with the bearer scheme need the operator's token.",
        },
        paths,
        components: Components {
            schemas: generator.take_definitions(true),
            security_schemes: BTreeMap::from([(
                "bearer",
                SecurityScheme { scheme: "bearer", kind: "http" },
            )]),
        },
    };
    serde_json::to_string_pretty(&document).unwrap_or_else(|error| {
        // Serialising maps of strings and JSON values cannot fail; say so if it ever does.
        format!("{{\"error\": \"the OpenAPI document did not serialise: {error}\"}}")
    })
}
