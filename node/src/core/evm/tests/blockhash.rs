//! `BLOCKHASH` through the ledger: a contract reads the ids of the last 256 checkpoints of the
//! chain being applied (each recorded when its successor begins), zero outside that window, and
//! a reorganisation's undo and re-execution give the new branch's. Ids and generation
//! signatures differ here, so a `BLOCKHASH` answering signatures fails every test.

use super::*;

/// Runtime: `sstore(0, blockhash(calldataload(0)))`.
const READER: [u8; 8] = [0x60, 0x00, 0x35, 0x40, 0x60, 0x00, 0x55, 0x00];

fn reader_init_code() -> Vec<u8> {
    let mut code = vec![0x60, 0x08, 0x80, 0x60, 0x0b, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3];
    code.extend_from_slice(&READER);
    code
}

/// The generation signature of the checkpoint at `height`, the same on every branch: siblings
/// share one (it derives from their common predecessor's), so only ids tell branches apart.
fn signature(height: u64) -> Hash {
    Hash::of(&height.to_le_bytes())
}

/// The id of the checkpoint at `height` on branch `branch` (the branches share height 0).
fn id(height: u64, branch: u8) -> Hash {
    let branch = if height == 0 { 0 } else { branch };
    Hash::of_parts(&[b"id", &[branch], &height.to_le_bytes()])
}

fn begin(world: &mut World, height: u64, branch: u8, undo: &mut Undo) -> StorageContext {
    let mut context = context(height, CHAIN_ID);
    context.evm.generation_signature = signature(height);
    context.evm.parent_id = id(height - 1, branch);
    world.ledger.evm_begin(&context.evm, &world.author.account(), POLICY, undo);
    context
}

impl World {
    /// Calls the reader at `contract` for `number` in the checkpoint of `context`; what it
    /// stored.
    fn read_blockhash(
        &mut self,
        contract: Address,
        nonce: u64,
        number: u64,
        context: &StorageContext,
        undo: &mut Undo,
    ) -> B256 {
        let raw = sign_1559(&self.wallet, nonce, Some(contract), U256::ZERO, word(number), 60_000);
        let tx = self.carrier_tx(raw.clone());
        let author = self.author.account();
        self.ledger.apply_in(&tx, &author, POLICY, StorageMode::Full(context), undo).unwrap();
        assert!(self.receipt(&raw).success);
        B256::from(self.ledger.evm().slot(&contract, &U256::ZERO))
    }
}

fn deploy_reader(world: &mut World, context: &StorageContext, undo: &mut Undo) -> Address {
    let raw = sign_1559(&world.wallet, 0, None, U256::ZERO, reader_init_code(), 200_000);
    let tx = world.carrier_tx(raw.clone());
    let author = world.author.account();
    world.ledger.apply_in(&tx, &author, POLICY, StorageMode::Full(context), undo).unwrap();
    world.receipt(&raw).contract_address.unwrap()
}

#[test]
fn blockhash_answers_the_last_256_checkpoint_ids_and_zero_outside() {
    let mut world = world();
    let mut undo = Undo::default();
    for height in 1..300 {
        begin(&mut world, height, 0, &mut undo);
    }
    let context = begin(&mut world, 300, 0, &mut undo);
    let reader = deploy_reader(&mut world, &context, &mut undo);
    let expected = |height: u64| B256::from(id(height, 0).0);
    let mut nonce = 1;
    let mut read = |world: &mut World, number: u64| {
        nonce += 1;
        world.read_blockhash(reader, nonce - 1, number, &context, &mut Undo::default())
    };
    assert_eq!(read(&mut world, 299), expected(299), "the parent, recorded as 300 began");
    assert_ne!(expected(299), B256::from(signature(299).0));
    assert_eq!(read(&mut world, 0), B256::ZERO, "genesis: 300 below, out of reach");
    assert_eq!(read(&mut world, 44), expected(44), "300 - 256: the oldest reachable");
    assert_eq!(read(&mut world, 43), B256::ZERO, "257 below: out of reach");
    assert_eq!(read(&mut world, 300), B256::ZERO, "the current checkpoint's own");
    assert_eq!(read(&mut world, 301), B256::ZERO);
    // Only what BLOCKHASH can reach is kept.
    assert_eq!(world.ledger.evm().block_hash(43), None);
    assert_eq!(world.ledger.evm().block_hash(44), Some(expected(44)));
}

#[test]
fn after_a_reorganisation_blockhash_answers_the_new_branch() {
    let mut world = world();
    let mut common = Undo::default();
    let first = begin(&mut world, 1, 0, &mut common);
    let reader = deploy_reader(&mut world, &first, &mut common);
    let before = world.ledger.clone();
    // Branch A: heights 2 and 3; the read at 3 sees A's height 2.
    let mut branch = Undo::default();
    begin(&mut world, 2, 0, &mut branch);
    let at_three = begin(&mut world, 3, 0, &mut branch);
    let on_a = world.read_blockhash(reader, 1, 2, &at_three, &mut branch);
    assert_eq!(on_a, B256::from(id(2, 0).0));
    // The reorganisation undoes branch A exactly, then branch B executes the same call.
    world.ledger.revert(branch);
    assert_eq!(world.ledger, before);
    let mut branch = Undo::default();
    begin(&mut world, 2, 1, &mut branch);
    let at_three = begin(&mut world, 3, 1, &mut branch);
    let on_b = world.read_blockhash(reader, 1, 2, &at_three, &mut branch);
    assert_eq!(on_b, B256::from(id(2, 1).0));
    assert_ne!(on_a, on_b);
}
