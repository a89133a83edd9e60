//! The Ethereum Foundation's state-test format (ethereum/tests `GeneralStateTests`, filled for
//! Cancun), read into plain values: the pre-state, the block environment, the transaction
//! template and one case per `post.Cancun` entry (one (data, gas, value) index triple).

use serde_json::Value;
use std::collections::BTreeMap;
use std::str::FromStr;
use vein_node::core::evm::{Address, B256, Bytes, U256};

/// Why a fixture could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("{path}: missing or malformed field `{field}`")]
    Field { path: String, field: String },
    #[error("{path}: {source}")]
    Json { path: String, source: serde_json::Error },
}

/// One account of a pre- or post-state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Account {
    pub balance: U256,
    pub nonce: u64,
    pub code: Bytes,
    pub storage: BTreeMap<U256, U256>,
}

/// The block environment (`env`).
#[derive(Clone, Debug)]
pub struct Env {
    pub coinbase: Address,
    pub number: u64,
    pub timestamp: u64,
    pub random: B256,
    pub base_fee: U256,
    /// The block's gas limit (vein's is its checkpoint limit; the reference run uses this).
    pub gas_limit: U256,
}

/// The transaction's price fields, in wei, as the fixture gives them.
#[derive(Clone, Debug)]
pub enum Price {
    /// Legacy or EIP-2930: one gas price.
    Legacy(U256),
    /// EIP-1559: the max fee and the priority fee.
    Dynamic { max_fee: U256, priority: U256 },
}

/// One (test, fork, index) case: everything needed to run and check it.
#[derive(Clone, Debug)]
pub struct Case {
    /// `category/file::test[data,gas,value]`.
    pub id: String,
    pub category: String,
    pub env: Env,
    pub pre: BTreeMap<Address, Account>,
    pub secret_key: B256,
    pub sender: Address,
    pub nonce: U256,
    /// `None` creates a contract.
    pub to: Option<Address>,
    pub price: Price,
    pub data: Bytes,
    pub gas_limit: U256,
    pub value: U256,
    /// `Some` when the fixture gives an access list for this data index (a 2930 or 1559 tx).
    pub access_list: Option<Vec<(Address, Vec<B256>)>>,
    /// Blob transactions (EIP-4844) carry versioned hashes.
    pub blob: bool,
    /// Expected Merkle-Patricia root of the post-state.
    pub post_root: B256,
    /// Expected keccak256 of the RLP list of the logs.
    pub logs_hash: B256,
    /// The exception the fixture expects (the transaction is invalid), if any.
    pub exception: Option<String>,
}

fn field<'a>(value: &'a Value, name: &str, path: &str) -> Result<&'a Value, FixtureError> {
    value
        .get(name)
        .ok_or_else(|| FixtureError::Field { path: path.to_string(), field: name.to_string() })
}

fn text<'a>(value: &'a Value, name: &str, path: &str) -> Result<&'a str, FixtureError> {
    field(value, name, path)?
        .as_str()
        .ok_or_else(|| FixtureError::Field { path: path.to_string(), field: name.to_string() })
}

fn bad(path: &str, name: &str) -> FixtureError {
    FixtureError::Field { path: path.to_string(), field: name.to_string() }
}

/// A hex quantity; `0x` alone is zero.
pub fn quantity(text: &str) -> Option<U256> {
    let digits = text.strip_prefix("0x")?;
    if digits.is_empty() {
        return Some(U256::ZERO);
    }
    U256::from_str_radix(digits, 16).ok()
}

fn hex_bytes(text: &str) -> Option<Bytes> {
    Bytes::from_str(text).ok()
}

fn u64_of(value: &Value, name: &str, path: &str) -> Result<u64, FixtureError> {
    quantity(text(value, name, path)?)
        .and_then(|number| u64::try_from(number).ok())
        .ok_or_else(|| bad(path, name))
}

fn word(text: &str) -> Option<B256> {
    quantity(text).map(B256::from)
}

fn accounts(value: &Value, path: &str) -> Result<BTreeMap<Address, Account>, FixtureError> {
    let object = value.as_object().ok_or_else(|| bad(path, "pre"))?;
    let mut out = BTreeMap::new();
    for (address, account) in object {
        let address = Address::from_str(address).map_err(|_| bad(path, "pre address"))?;
        let mut storage = BTreeMap::new();
        let slots =
            field(account, "storage", path)?.as_object().ok_or_else(|| bad(path, "storage"))?;
        for (key, slot) in slots {
            let key = quantity(key).ok_or_else(|| bad(path, "storage key"))?;
            let slot = slot.as_str().and_then(quantity).ok_or_else(|| bad(path, "storage"))?;
            if slot != U256::ZERO {
                storage.insert(key, slot);
            }
        }
        out.insert(
            address,
            Account {
                balance: quantity(text(account, "balance", path)?)
                    .ok_or_else(|| bad(path, "balance"))?,
                nonce: u64_of(account, "nonce", path)?,
                code: hex_bytes(text(account, "code", path)?).ok_or_else(|| bad(path, "code"))?,
                storage,
            },
        );
    }
    Ok(out)
}

fn access_list(value: &Value, path: &str) -> Result<Vec<(Address, Vec<B256>)>, FixtureError> {
    let items = value.as_array().ok_or_else(|| bad(path, "accessLists"))?;
    let mut out = Vec::new();
    for item in items {
        let address = Address::from_str(text(item, "address", path)?)
            .map_err(|_| bad(path, "accessLists address"))?;
        let keys = field(item, "storageKeys", path)?
            .as_array()
            .ok_or_else(|| bad(path, "storageKeys"))?
            .iter()
            .map(|key| key.as_str().and_then(word).ok_or_else(|| bad(path, "storageKeys")))
            .collect::<Result<Vec<_>, _>>()?;
        out.push((address, keys));
    }
    Ok(out)
}

fn indexed<'a>(
    list: &'a Value,
    index: &Value,
    name: &str,
    path: &str,
) -> Result<&'a str, FixtureError> {
    let index = index.as_u64().ok_or_else(|| bad(path, "indexes"))?;
    list.get(usize::try_from(index).map_err(|_| bad(path, name))?)
        .and_then(Value::as_str)
        .ok_or_else(|| bad(path, name))
}

/// Every Cancun case of one fixture file, named `category/file::test[d,g,v]`.
pub fn cases(category: &str, file: &str, json: &str) -> Result<Vec<Case>, FixtureError> {
    let path = format!("{category}/{file}");
    let tests: BTreeMap<String, Value> = serde_json::from_str(json)
        .map_err(|source| FixtureError::Json { path: path.clone(), source })?;
    let mut out = Vec::new();
    for (name, test) in &tests {
        let env = field(test, "env", &path)?;
        let env = Env {
            coinbase: Address::from_str(text(env, "currentCoinbase", &path)?)
                .map_err(|_| bad(&path, "currentCoinbase"))?,
            number: u64_of(env, "currentNumber", &path)?,
            timestamp: u64_of(env, "currentTimestamp", &path)?,
            random: env
                .get("currentRandom")
                .and_then(Value::as_str)
                .and_then(word)
                .unwrap_or_default(),
            gas_limit: quantity(text(env, "currentGasLimit", &path)?)
                .ok_or_else(|| bad(&path, "currentGasLimit"))?,
            // Fixtures written before London have no base fee.
            base_fee: match env.get("currentBaseFee").and_then(Value::as_str) {
                Some(fee) => quantity(fee).ok_or_else(|| bad(&path, "currentBaseFee"))?,
                None => U256::ZERO,
            },
        };
        let pre = accounts(field(test, "pre", &path)?, &path)?;
        let tx = field(test, "transaction", &path)?;
        let price = match tx.get("gasPrice").and_then(Value::as_str) {
            Some(price) => Price::Legacy(quantity(price).ok_or_else(|| bad(&path, "gasPrice"))?),
            None => Price::Dynamic {
                max_fee: quantity(text(tx, "maxFeePerGas", &path)?)
                    .ok_or_else(|| bad(&path, "maxFeePerGas"))?,
                priority: quantity(text(tx, "maxPriorityFeePerGas", &path)?)
                    .ok_or_else(|| bad(&path, "maxPriorityFeePerGas"))?,
            },
        };
        let to = match text(tx, "to", &path)? {
            "" => None,
            to => Some(Address::from_str(to).map_err(|_| bad(&path, "to"))?),
        };
        let posts = test.get("post").and_then(|post| post.get("Cancun")).and_then(Value::as_array);
        for post in posts.into_iter().flatten() {
            let indexes = field(post, "indexes", &path)?;
            let (d, g, v) = (&indexes["data"], &indexes["gas"], &indexes["value"]);
            let data_index = d.as_u64().and_then(|d| usize::try_from(d).ok());
            let lists = tx.get("accessLists");
            let access_list = match lists.and_then(|lists| lists.get(data_index?)) {
                Some(Value::Null) | None => None,
                Some(list) => Some(access_list(list, &path)?),
            };
            out.push(Case {
                id: format!("{path}::{name}[{d},{g},{v}]"),
                category: category.to_string(),
                env: env.clone(),
                pre: pre.clone(),
                secret_key: word(text(tx, "secretKey", &path)?)
                    .ok_or_else(|| bad(&path, "secretKey"))?,
                sender: Address::from_str(text(tx, "sender", &path)?)
                    .map_err(|_| bad(&path, "sender"))?,
                nonce: quantity(text(tx, "nonce", &path)?).ok_or_else(|| bad(&path, "nonce"))?,
                to,
                price: price.clone(),
                data: hex_bytes(indexed(field(tx, "data", &path)?, d, "data", &path)?)
                    .ok_or_else(|| bad(&path, "data"))?,
                gas_limit: quantity(indexed(field(tx, "gasLimit", &path)?, g, "gasLimit", &path)?)
                    .ok_or_else(|| bad(&path, "gasLimit"))?,
                value: quantity(indexed(field(tx, "value", &path)?, v, "value", &path)?)
                    .ok_or_else(|| bad(&path, "value"))?,
                access_list,
                blob: tx.get("blobVersionedHashes").is_some(),
                post_root: word(text(post, "hash", &path)?).ok_or_else(|| bad(&path, "hash"))?,
                logs_hash: word(text(post, "logs", &path)?).ok_or_else(|| bad(&path, "logs"))?,
                exception: post.get("expectException").and_then(Value::as_str).map(str::to_string),
            });
        }
    }
    Ok(out)
}
