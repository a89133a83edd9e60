//! Business tokens seen as ERC-20s (EIP-20; docs/tokens.md). Every token answers at its fixed
//! address (`TokenId::erc20_address`: the prefix `0xe20ce20c` and the id's first 16 bytes) with
//! `name() symbol() decimals() totalSupply() balanceOf(address) transfer(address,uint256)
//! allowance(address,address) approve(address,uint256) transferFrom(address,address,uint256)`
//! and the standard `Transfer` and `Approval` logs.
//!
//! Model:
//! - A precompile provider in front of Ethereum's own: a call to a token's address runs here,
//!   inside revm's call frame, so its writes are journaled and undone with a reverting caller.
//! - Balances are the ledger's token balances, not a copy: the balance of EVM address `A` is the
//!   balance of the native account `account_of(A)` (12 zero bytes ‖ A), read through the state
//!   adapter at a balance slot ([`balance_slot`], invertible) and written back by the ledger into
//!   the token section through its undo log. A native `TokenTx::Transfer` and an ERC-20
//!   `transfer` move the same units.
//! - Allowances exist only for the ERC-20 view: ordinary contract storage of the token's address
//!   at a hashed slot ([`allowance_slot`]), part of the EVM section.
//! - Balances are u64 on the ledger: an amount above u64::MAX reverts. A call carrying ether, a
//!   DELEGATECALL or CALLCODE into a token, or a write in a static call reverts.
//! - Gas is a fixed charge per function, in the range a Solidity ERC-20 spends.

use crate::core::token::{Token, Tokens, id_prefix_of};
use revm::context::Cfg;
use revm::context_interface::{ContextTr, JournalTr};
use revm::handler::{EthPrecompiles, PrecompileProvider};
use revm::interpreter::{CallInputs, Gas, InstructionResult, InterpreterResult};
use revm::primitives::{Address, AddressSet, B256, Bytes, Log, U256, keccak256};

/// Gas of a read (`name` .. `allowance`).
pub const GAS_READ: u64 = 2_600;
/// Gas of `transfer` and `approve`.
pub const GAS_WRITE: u64 = 30_000;
/// Gas of `transferFrom` (two balances and an allowance).
pub const GAS_TRANSFER_FROM: u64 = 40_000;

const NAME: [u8; 4] = [0x06, 0xfd, 0xde, 0x03];
const SYMBOL: [u8; 4] = [0x95, 0xd8, 0x9b, 0x41];
const DECIMALS: [u8; 4] = [0x31, 0x3c, 0xe5, 0x67];
const TOTAL_SUPPLY: [u8; 4] = [0x18, 0x16, 0x0d, 0xdd];
const BALANCE_OF: [u8; 4] = [0x70, 0xa0, 0x82, 0x31];
const TRANSFER: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];
const ALLOWANCE: [u8; 4] = [0xdd, 0x62, 0xed, 0x3e];
const APPROVE: [u8; 4] = [0x09, 0x5e, 0xa7, 0xb3];
const TRANSFER_FROM: [u8; 4] = [0x23, 0xb8, 0x72, 0xdd];

/// Tag byte of a balance slot; the holder's address fills its last 20 bytes.
const BALANCE_SLOT_TAG: u8 = 0x01;
/// Tag byte an allowance slot's hash is forced to, so it never equals a balance slot.
const ALLOWANCE_SLOT_TAG: u8 = 0x02;

/// The storage slot of `holder`'s balance at a token's address: `0x01 ‖ 11 zero bytes ‖ holder`.
pub fn balance_slot(holder: &Address) -> U256 {
    let mut bytes = [0u8; 32];
    bytes[0] = BALANCE_SLOT_TAG;
    bytes[12..].copy_from_slice(holder.as_slice());
    U256::from_be_bytes(bytes)
}

/// The holder a balance slot names, if `slot` is one.
pub fn holder_of_slot(slot: &U256) -> Option<Address> {
    let bytes = slot.to_be_bytes::<32>();
    if bytes[0] != BALANCE_SLOT_TAG || bytes[1..12].iter().any(|byte| *byte != 0) {
        return None;
    }
    Some(Address::from_slice(&bytes[12..]))
}

/// The storage slot of `owner`'s allowance to `spender`.
pub fn allowance_slot(owner: &Address, spender: &Address) -> U256 {
    let mut preimage = [0u8; 41];
    preimage[..20].copy_from_slice(owner.as_slice());
    preimage[20..40].copy_from_slice(spender.as_slice());
    preimage[40] = ALLOWANCE_SLOT_TAG;
    let mut bytes = keccak256(preimage).0;
    bytes[0] = ALLOWANCE_SLOT_TAG;
    U256::from_be_bytes(bytes)
}

/// The token answering at `address`, if any.
pub fn token_at<'a>(tokens: &'a Tokens, address: &Address) -> Option<&'a Token> {
    let bytes: [u8; 20] = address.0.0;
    let token = tokens.by_address_prefix(&id_prefix_of(&bytes)?)?;
    (token.id.erc20_address() == bytes).then_some(token)
}

/// `Transfer(address,address,uint256)`: topic 0 of an ERC-20 transfer log.
pub fn transfer_topic() -> B256 {
    keccak256(b"Transfer(address,address,uint256)")
}

/// `Approval(address,address,uint256)`: topic 0 of an ERC-20 approval log.
pub fn approval_topic() -> B256 {
    keccak256(b"Approval(address,address,uint256)")
}

/// Ethereum's precompiles, and every business token at its ERC-20 address.
pub struct TokenPrecompiles<'a> {
    eth: EthPrecompiles,
    tokens: &'a Tokens,
}

impl<'a> TokenPrecompiles<'a> {
    /// Answer for Ethereum's precompiles `eth` and for every token in `tokens`.
    pub fn new(eth: EthPrecompiles, tokens: &'a Tokens) -> TokenPrecompiles<'a> {
        TokenPrecompiles { eth, tokens }
    }
}

/// How a token call ended.
enum Ending {
    Return(Vec<u8>),
    Revert(&'static str),
}

fn word(value: U256) -> Vec<u8> {
    value.to_be_bytes::<32>().to_vec()
}

fn address_word(address: &Address) -> B256 {
    let mut bytes = [0u8; 32];
    bytes[12..].copy_from_slice(address.as_slice());
    B256::from(bytes)
}

/// ABI encoding of one string return value.
fn string_word(text: &str) -> Vec<u8> {
    let mut out = word(U256::from(32));
    out.extend(word(U256::from(text.len())));
    let mut padded = text.as_bytes().to_vec();
    padded.resize(text.len().div_ceil(32) * 32, 0);
    out.extend(padded);
    out
}

/// Revert data as Solidity's `require(cond, reason)` makes it, `Error(string)`: wallets and
/// ethers decode only that shape into a reason (raw bytes read as an unknown custom error).
fn error_string(reason: &str) -> Vec<u8> {
    let mut out = ERROR_STRING_SELECTOR.to_vec();
    out.extend(string_word(reason));
    out
}

/// `keccak256("Error(string)")[..4]`.
const ERROR_STRING_SELECTOR: [u8; 4] = [0x08, 0xc3, 0x79, 0xa0];

/// Argument `index` (32-byte words after the selector) as an address: its upper 12 bytes must be
/// zero, as Solidity checks.
fn address_arg(input: &[u8], index: usize) -> Option<Address> {
    let start = 4 + 32 * index;
    let word = input.get(start..start + 32)?;
    if word[..12].iter().any(|byte| *byte != 0) {
        return None;
    }
    Some(Address::from_slice(&word[12..]))
}

fn amount_arg(input: &[u8], index: usize) -> Option<U256> {
    let start = 4 + 32 * index;
    Some(U256::from_be_slice(input.get(start..start + 32)?))
}

impl<CTX: ContextTr> PrecompileProvider<CTX> for TokenPrecompiles<'_> {
    type Output = InterpreterResult;

    fn set_spec(&mut self, spec: <CTX::Cfg as Cfg>::Spec) -> bool {
        <EthPrecompiles as PrecompileProvider<CTX>>::set_spec(&mut self.eth, spec)
    }

    fn run(
        &mut self,
        context: &mut CTX,
        inputs: &CallInputs,
    ) -> Result<Option<InterpreterResult>, String> {
        let Some(token) = token_at(self.tokens, &inputs.bytecode_address) else {
            return self.eth.run(context, inputs);
        };
        let input = inputs.input.as_bytes(context).to_vec();
        let mut gas = Gas::new_with_regular_gas_and_reservoir(inputs.gas_limit, inputs.reservoir);
        let ending = call(context, inputs, token, &input, &mut gas)?;
        let (result, output) = match ending {
            Some(Ending::Return(output)) => (InstructionResult::Return, output),
            Some(Ending::Revert(reason)) => (InstructionResult::Revert, error_string(reason)),
            None => {
                gas.spend_all();
                (InstructionResult::PrecompileOOG, Vec::new())
            }
        };
        Ok(Some(InterpreterResult { result, output: Bytes::from(output), gas }))
    }

    fn warm_addresses(&self) -> &AddressSet {
        self.eth.warm_addresses()
    }

    fn contains(&self, address: &Address) -> bool {
        self.eth.contains(address) || token_at(self.tokens, address).is_some()
    }
}

/// One call to `token`'s ERC-20 view; `None` when out of gas.
fn call<CTX: ContextTr>(
    context: &mut CTX,
    inputs: &CallInputs,
    token: &Token,
    input: &[u8],
    gas: &mut Gas,
) -> Result<Option<Ending>, String> {
    let address = inputs.bytecode_address;
    if inputs.target_address != address {
        return Ok(Some(Ending::Revert("a token cannot be delegate-called")));
    }
    if inputs.value.get() != U256::ZERO {
        return Ok(Some(Ending::Revert("a token accepts no ether")));
    }
    let Some(selector) = input.get(..4) else {
        return Ok(Some(Ending::Revert("no function selector")));
    };
    let selector: [u8; 4] = [selector[0], selector[1], selector[2], selector[3]];
    let cost = match selector {
        TRANSFER | APPROVE => GAS_WRITE,
        TRANSFER_FROM => GAS_TRANSFER_FROM,
        _ => GAS_READ,
    };
    if !gas.record_regular_cost(cost) {
        return Ok(None);
    }
    let writes = matches!(selector, TRANSFER | APPROVE | TRANSFER_FROM);
    if writes && inputs.is_static {
        return Ok(Some(Ending::Revert("a write in a static call")));
    }
    let caller = inputs.caller;
    let mut view = View { context, address };
    let ending = match selector {
        NAME => Ending::Return(string_word(&token.name)),
        SYMBOL => Ending::Return(string_word(&token.symbol)),
        DECIMALS => Ending::Return(word(U256::from(token.decimals))),
        TOTAL_SUPPLY => Ending::Return(word(U256::from(token.total_supply()))),
        BALANCE_OF => match address_arg(input, 0) {
            Some(holder) => Ending::Return(word(view.balance(&holder)?)),
            None => Ending::Revert("balanceOf(address): bad argument"),
        },
        ALLOWANCE => match (address_arg(input, 0), address_arg(input, 1)) {
            (Some(owner), Some(spender)) => Ending::Return(word(view.allowance(&owner, &spender)?)),
            _ => Ending::Revert("allowance(address,address): bad arguments"),
        },
        TRANSFER => match (address_arg(input, 0), amount_arg(input, 1)) {
            (Some(to), Some(amount)) => view.transfer(&caller, &to, amount)?,
            _ => Ending::Revert("transfer(address,uint256): bad arguments"),
        },
        APPROVE => match (address_arg(input, 0), amount_arg(input, 1)) {
            (Some(spender), Some(amount)) => {
                let slot = allowance_slot(&caller, &spender);
                view.store(slot, amount)?;
                view.log(approval_topic(), &caller, &spender, amount);
                Ending::Return(word(U256::from(1)))
            }
            _ => Ending::Revert("approve(address,uint256): bad arguments"),
        },
        TRANSFER_FROM => {
            match (address_arg(input, 0), address_arg(input, 1), amount_arg(input, 2)) {
                (Some(from), Some(to), Some(amount)) => {
                    let allowed = view.allowance(&from, &caller)?;
                    if allowed < amount {
                        Ending::Revert("transferFrom: amount over the allowance")
                    } else {
                        let ending = view.transfer(&from, &to, amount)?;
                        // An unlimited allowance (all ones) is not spent down, as in OpenZeppelin.
                        if matches!(ending, Ending::Return(_)) && allowed != U256::MAX {
                            view.store(allowance_slot(&from, &caller), allowed - amount)?;
                        }
                        ending
                    }
                }
                _ => Ending::Revert("transferFrom(address,address,uint256): bad arguments"),
            }
        }
        _ => Ending::Revert("unknown function of a business token"),
    };
    Ok(Some(ending))
}

/// Journaled reads and writes at one token's address.
struct View<'c, CTX> {
    context: &'c mut CTX,
    address: Address,
}

impl<CTX: ContextTr> View<'_, CTX> {
    fn load(&mut self, slot: U256) -> Result<U256, String> {
        let loaded = self.context.journal_mut().sload(self.address, slot);
        loaded.map(|value| value.data).map_err(|_| "token state unreadable".to_string())
    }

    fn store(&mut self, slot: U256, value: U256) -> Result<(), String> {
        let journal = self.context.journal_mut();
        journal.sstore(self.address, slot, value).map_err(|_| "token state unwritable")?;
        journal.touch_account(self.address);
        Ok(())
    }

    fn balance(&mut self, holder: &Address) -> Result<U256, String> {
        self.load(balance_slot(holder))
    }

    fn allowance(&mut self, owner: &Address, spender: &Address) -> Result<U256, String> {
        self.load(allowance_slot(owner, spender))
    }

    fn log(&mut self, topic: B256, from: &Address, to: &Address, amount: U256) {
        let topics = vec![topic, address_word(from), address_word(to)];
        let data = Bytes::from(word(amount));
        let log = Log::new_unchecked(self.address, topics, data);
        self.context.journal_mut().log(log);
    }

    /// Move `amount` from `from` to `to` (both as native accounts `account_of`), logging it.
    fn transfer(&mut self, from: &Address, to: &Address, amount: U256) -> Result<Ending, String> {
        if amount > U256::from(u64::MAX) {
            return Ok(Ending::Revert("amount over u64::MAX"));
        }
        let balance = self.balance(from)?;
        if balance < amount {
            return Ok(Ending::Revert("transfer amount exceeds balance"));
        }
        if from != to {
            let received = self.balance(to)?;
            if received + amount > U256::from(u64::MAX) {
                return Ok(Ending::Revert("recipient balance would overflow"));
            }
            self.store(balance_slot(from), balance - amount)?;
            self.store(balance_slot(to), received + amount)?;
        }
        self.log(transfer_topic(), from, to, amount);
        Ok(Ending::Return(word(U256::from(1))))
    }
}
