//! Business tokens through their ERC-20 view, as a checkpoint executes wallets' calls: the
//! metadata and balances read by `eth_call`, `transfer`, `approve` and `transferFrom` moving the
//! ledger's own token balances with the standard logs, refusals that revert, and the undo.

use super::*;
use crate::core::token::{IssueToken, SupplyRule, TokenId, TokenTx, token_id};

/// ABI call data: a selector and 32-byte words.
fn calldata(signature: &str, words: &[U256]) -> Vec<u8> {
    let mut data = revm::primitives::keccak256(signature.as_bytes())[..4].to_vec();
    for word in words {
        data.extend_from_slice(&word.to_be_bytes::<32>());
    }
    data
}

fn address_word(address: &Address) -> U256 {
    U256::from_be_slice(address.as_slice())
}

struct Tokens {
    world: World,
    spender: SigningKey,
    token: TokenId,
    at: Address,
}

/// A wallet and a spender with gas money; the carrier issues a token of 1,000 and moves 600
/// of it natively to the wallet's account (12 zero bytes ‖ its EVM address).
fn with_token(undo: &mut Undo) -> Tokens {
    let mut world = world();
    let spender = wallet_key(9);
    let genesis = [
        (account_of(&address(&world.wallet)), 1_000_000_000),
        (account_of(&address(&spender)), 1_000_000_000),
        (world.carrier.account(), 1_000),
        (world.author.account(), 0),
    ];
    world.ledger = Ledger::genesis(&genesis).unwrap();
    let issue = TokenTx::Issue(IssueToken {
        name: "Acme Points".into(),
        symbol: "ACME".into(),
        decimals: 2,
        initial_supply: 1_000,
        supply: SupplyRule::Fixed,
    });
    let token = token_id(&world.carrier.account(), world.carrier_nonce);
    let to = account_of(&address(&world.wallet));
    for token_tx in [issue, TokenTx::Transfer { token, to, amount: 600 }] {
        let body = TransactionBody {
            from: world.carrier.account(),
            nonce: world.carrier_nonce,
            kind: TxKind::Token(Box::new(token_tx)),
            fee: 1,
            parents: [Hash::ZERO; 2],
            issued_at_ms: 0,
        };
        world.carrier_nonce += 1;
        let tx = body.sign(&world.carrier).unwrap();
        world.ledger.apply(&tx, &world.author.account(), POLICY, undo).unwrap();
    }
    let at = Address::from(token.erc20_address());
    Tokens { world, spender, token, at }
}

impl Tokens {
    fn read(&self, signature: &str, words: &[U256]) -> U256 {
        let request = CallRequest {
            to: Some(self.at),
            input: calldata(signature, words).into(),
            ..CallRequest::default()
        };
        let block = context(1, CHAIN_ID).evm;
        let outcome = simulate_call(self.world.ledger.evm_view(), &block, &request).unwrap();
        assert!(outcome.success, "{signature} failed: {:?}", outcome.output);
        U256::from_be_slice(&outcome.output[outcome.output.len() - 32..])
    }

    fn balance_of(&self, holder: &Address) -> U256 {
        self.read("balanceOf(address)", &[address_word(holder)])
    }

    /// `key` sends a call to the token; returns its receipt.
    fn send(&mut self, key: &SigningKey, nonce: u64, data: Vec<u8>, undo: &mut Undo) -> Receipt {
        let raw = sign_1559(key, nonce, Some(self.at), U256::ZERO, data, 100_000);
        self.world.apply(raw.clone(), 1, undo).unwrap();
        self.world.receipt(&raw)
    }
}

#[test]
fn the_view_reads_metadata_and_the_ledger_balances() {
    let tokens = with_token(&mut Undo::default());
    let wallet = address(&tokens.world.wallet);
    assert!(tokens.at.to_string().to_lowercase().starts_with("0xe20ce20c"));
    assert_eq!(tokens.read("decimals()", &[]), U256::from(2));
    assert_eq!(tokens.read("totalSupply()", &[]), U256::from(1_000));
    assert_eq!(tokens.balance_of(&wallet), U256::from(600));
    // The symbol: an ABI string (offset, length, bytes).
    let request = CallRequest {
        to: Some(tokens.at),
        input: calldata("symbol()", &[]).into(),
        ..CallRequest::default()
    };
    let view = tokens.world.ledger.evm_view();
    let output = simulate_call(view, &context(1, CHAIN_ID).evm, &request).unwrap().output;
    assert_eq!(output.len(), 96);
    assert_eq!(U256::from_be_slice(&output[32..64]), U256::from(4));
    assert_eq!(&output[64..68], b"ACME");
}

#[test]
fn transfer_moves_the_ledger_balance_and_logs_transfer() {
    let mut undo = Undo::default();
    let mut tokens = with_token(&mut undo);
    let before = tokens.world.ledger.clone();
    let root = tokens.world.ledger.root();
    let wallet = address(&tokens.world.wallet);
    let to = Address::repeat_byte(0x42);
    let key = tokens.world.wallet.clone();
    let mut step = Undo::default();
    let data = calldata("transfer(address,uint256)", &[address_word(&to), U256::from(250)]);
    let receipt = tokens.send(&key, 0, data, &mut step);
    assert!(receipt.success, "{:?}", receipt.output);
    assert_eq!(U256::from_be_slice(&receipt.output), U256::from(1), "returns true");
    let ledger = &tokens.world.ledger;
    assert_eq!(ledger.tokens().balance(&tokens.token, &account_of(&to)), 250);
    assert_eq!(ledger.tokens().balance(&tokens.token, &account_of(&wallet)), 350);
    assert_eq!(receipt.logs.len(), 1);
    let log = &receipt.logs[0];
    assert_eq!(log.address, tokens.at);
    assert_eq!(log.topics[0], transfer_topic());
    assert_eq!(log.topics[1], B256::from(address_word(&wallet)));
    assert_eq!(log.topics[2], B256::from(address_word(&to)));
    assert_eq!(U256::from_be_slice(&log.data), U256::from(250));
    ledger.check_invariants().unwrap();

    // Over the balance: the call reverts and nothing moves.
    let data = calldata("transfer(address,uint256)", &[address_word(&to), U256::from(351)]);
    let receipt = tokens.send(&key, 1, data, &mut step);
    assert!(!receipt.success);
    assert!(receipt.logs.is_empty());
    assert_eq!(tokens.balance_of(&wallet), U256::from(350));

    // A reorganisation undoes the view's writes with the rest of the ledger.
    tokens.world.ledger.revert(step);
    assert_eq!(tokens.world.ledger, before);
    assert_eq!(tokens.world.ledger.root(), root);
}

#[test]
fn a_revert_carries_its_reason_as_a_solidity_error_string() {
    let tokens = with_token(&mut Undo::default());
    let wallet = address(&tokens.world.wallet);
    let to = Address::repeat_byte(0x42);
    let request = CallRequest {
        from: Some(wallet),
        to: Some(tokens.at),
        input: calldata("transfer(address,uint256)", &[address_word(&to), U256::from(601)]).into(),
        ..CallRequest::default()
    };
    let block = context(1, CHAIN_ID).evm;
    let outcome = simulate_call(tokens.world.ledger.evm_view(), &block, &request).unwrap();
    assert!(!outcome.success);
    // `Error(string)`: its selector, then the ABI string (offset, length, padded bytes), which
    // is what ethers decodes into `error.reason`.
    let reason = b"transfer amount exceeds balance";
    let output = &outcome.output;
    assert_eq!(output[..4], revm::primitives::keccak256(b"Error(string)")[..4]);
    assert_eq!(U256::from_be_slice(&output[4..36]), U256::from(32));
    assert_eq!(U256::from_be_slice(&output[36..68]), U256::from(reason.len()));
    assert_eq!(&output[68..68 + reason.len()], reason);
    assert_eq!(output.len(), 68 + 32);
}

#[test]
fn approve_and_transfer_from_spend_an_allowance() {
    let mut undo = Undo::default();
    let mut tokens = with_token(&mut undo);
    let wallet = address(&tokens.world.wallet);
    let spender_key = tokens.spender.clone();
    let spender = address(&spender_key);
    let to = Address::repeat_byte(0x77);
    let key = tokens.world.wallet.clone();
    let approve = calldata("approve(address,uint256)", &[address_word(&spender), U256::from(100)]);
    let receipt = tokens.send(&key, 0, approve, &mut undo);
    assert!(receipt.success);
    assert_eq!(receipt.logs[0].topics[0], approval_topic());
    let allowance = |tokens: &Tokens| {
        tokens.read("allowance(address,address)", &[address_word(&wallet), address_word(&spender)])
    };
    assert_eq!(allowance(&tokens), U256::from(100));
    let words = [address_word(&wallet), address_word(&to), U256::from(60)];
    let pull = calldata("transferFrom(address,address,uint256)", &words);
    let receipt = tokens.send(&spender_key, 0, pull.clone(), &mut undo);
    assert!(receipt.success, "{:?}", receipt.output);
    assert_eq!(tokens.balance_of(&to), U256::from(60));
    assert_eq!(tokens.balance_of(&wallet), U256::from(540));
    assert_eq!(allowance(&tokens), U256::from(40));
    // 60 more is over the remaining 40: reverted.
    let receipt = tokens.send(&spender_key, 1, pull, &mut undo);
    assert!(!receipt.success);
    assert_eq!(tokens.balance_of(&to), U256::from(60));
    tokens.world.ledger.check_invariants().unwrap();
}

#[test]
fn ether_delegate_calls_and_unknown_functions_revert() {
    let mut undo = Undo::default();
    let mut tokens = with_token(&mut undo);
    let key = tokens.world.wallet.clone();
    let with_value =
        sign_1559(&key, 0, Some(tokens.at), U256::from(WEI_PER_UNIT), Vec::new(), 100_000);
    tokens.world.apply(with_value.clone(), 1, &mut undo).unwrap();
    assert!(!tokens.world.receipt(&with_value).success, "a token accepts no ether");
    let receipt = tokens.send(&key, 1, calldata("mint(uint256)", &[U256::from(5)]), &mut undo);
    assert!(!receipt.success);
    let receipt = tokens.send(&key, 2, vec![0xa9], &mut undo);
    assert!(!receipt.success, "a truncated selector");
    tokens.world.ledger.check_invariants().unwrap();
}
