// A real Ethereum client against a running vein node (docs/evm.md): ethers v6 deploys the
// ERC-20 and the data-exchange escrow from contracts/build, transfers, waits for receipts,
// reads balances and filters logs. Every step asserts; any failure exits 1.
//
//   VEIN_RPC=http://127.0.0.1:PORT/rpc node ethers-test.mjs
//
// The deployer is the key 0x…01 (address 0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf), funded
// by the caller before the run (testnet/tests/eth.rs sends it native units from the faucet).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { ethers } from "ethers";

const here = dirname(fileURLToPath(import.meta.url));
const artifact = (name) =>
  JSON.parse(readFileSync(join(here, "..", "..", "contracts", "build", `${name}.json`), "utf8"));

const url = process.env.VEIN_RPC;
if (!url) throw new Error("set VEIN_RPC to the node's /rpc URL");
// cacheTimeout -1: ethers shares identical requests made within 250 ms, and a vein checkpoint can
// execute a transaction sooner than that, so the nonce read for the next transaction was the
// answer cached from before the previous one was mined ("nonce has already been used").
const provider = new ethers.JsonRpcProvider(url, undefined, { pollingInterval: 200, cacheTimeout: -1 });
const deployer = new ethers.Wallet("0x" + "00".repeat(31) + "01", provider);
const seller = new ethers.Wallet("0x" + "00".repeat(31) + "02", provider);
const step = (text) => console.log(`[${new Date().toISOString()}] ${text}`);

/// Wait for a transaction's receipt and require status 1.
async function mined(tx, what) {
  const receipt = await tx.wait(1, 120_000);
  assert.ok(receipt, `${what}: no receipt`);
  assert.equal(receipt.status, 1, `${what}: status ${receipt.status}`);
  step(`${what}: block ${receipt.blockNumber}, gas ${receipt.gasUsed}`);
  return receipt;
}

/// Expect a call to revert with the custom error `name`.
async function reverts(promise, contract, name) {
  try {
    await promise;
  } catch (error) {
    const data = error?.data ?? error?.info?.error?.data;
    const decoded = data ? contract.interface.parseError(data) : null;
    assert.equal(decoded?.name, name, `expected ${name}, got ${error.shortMessage ?? error}`);
    return;
  }
  assert.fail(`expected a revert with ${name}`);
}

/// Open an escrow deal whose deadline is a few seconds after the latest block; returns the deadline.
async function openBeforeDeadline(escrow, seller, datasetHash, price) {
  for (let margin = 2; margin <= 32; margin *= 2) {
    const deadline = (await provider.getBlock("latest")).timestamp + margin;
    try {
      await mined(await escrow.open(seller, datasetHash, deadline, { value: price }), `open deal 2 (deadline in ${margin} s)`);
      return deadline;
    } catch (error) {
      if (!(await missedDeadline(error, escrow, deadline))) throw error;
      step(`open deal 2: the deadline ${deadline} passed before inclusion; doubling the margin`);
    }
  }
  assert.fail("open deal 2: inclusion took longer than 32 s");
}

/// Whether `error` is the escrow refusing a deadline already past: from the gas estimate (the
/// custom error DeadlineInPast) or as a reverted receipt whose block is at or after the deadline.
async function missedDeadline(error, escrow, deadline) {
  if (error?.code !== "CALL_EXCEPTION") return false;
  if (error.receipt) {
    const included = (await provider.getBlock(error.receipt.blockNumber)).timestamp;
    assert.ok(included >= deadline, `open deal 2 reverted in block ${error.receipt.blockNumber} before its deadline`);
    return true;
  }
  const data = error.data ?? error.info?.error?.data;
  return data ? escrow.interface.parseError(data)?.name === "DeadlineInPast" : false;
}

async function main() {
  assert.equal(deployer.address, "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
  const network = await provider.getNetwork();
  step(`chain id ${network.chainId}, block ${await provider.getBlockNumber()}`);
  const funded = await provider.getBalance(deployer.address);
  assert.ok(funded >= ethers.parseEther("1"), `deployer holds only ${funded} wei`);

  // The ERC-20.
  const tokenArtifact = artifact("VeinToken");
  const supply = ethers.parseUnits("1000000", 18);
  const tokenFactory = new ethers.ContractFactory(tokenArtifact.abi, tokenArtifact.bytecode, deployer);
  const token = await tokenFactory.deploy("Vein Business Token", "VBT", supply);
  await mined(token.deploymentTransaction(), "deploy VeinToken");
  const tokenAddress = await token.getAddress();
  assert.notEqual(await provider.getCode(tokenAddress), "0x", "no code at the token");
  assert.equal(await token.symbol(), "VBT");
  assert.equal(await token.totalSupply(), supply);

  const amount = ethers.parseUnits("1234.5", 18);
  const transfer = await mined(await token.transfer(seller.address, amount), "token transfer");
  assert.equal(await token.balanceOf(seller.address), amount);
  assert.equal(await token.balanceOf(deployer.address), supply - amount);
  const events = await token.queryFilter(token.filters.Transfer(deployer.address, seller.address));
  assert.equal(events.length, 1, "one Transfer(deployer -> seller) log");
  assert.equal(events[0].args.value, amount);
  assert.equal(events[0].transactionHash, transfer.hash);
  const mintLogs = await provider.getLogs({
    address: tokenAddress,
    topics: [ethers.id("Transfer(address,address,uint256)"), ethers.zeroPadValue("0x", 32)],
    fromBlock: 0,
  });
  assert.equal(mintLogs.length, 1, "one mint log from address zero");
  await reverts(token.transfer.estimateGas(seller.address, supply), token, "InsufficientBalance");

  // Ether to the seller, so it can pay gas.
  await mined(
    await deployer.sendTransaction({ to: seller.address, value: ethers.parseEther("0.5") }),
    "ether transfer",
  );
  assert.equal(await provider.getBalance(seller.address), ethers.parseEther("0.5"));

  // The data-exchange escrow: delivered deal.
  const escrowArtifact = artifact("DataEscrow");
  const escrowFactory = new ethers.ContractFactory(escrowArtifact.abi, escrowArtifact.bytecode, deployer);
  const escrow = await escrowFactory.deploy();
  await mined(escrow.deploymentTransaction(), "deploy DataEscrow");
  const price = ethers.parseEther("0.25");
  const datasetHash = ethers.id("dataset: wine quality, 2026");
  const now = (await provider.getBlock("latest")).timestamp;
  await mined(await escrow.open(seller.address, datasetHash, now + 3600, { value: price }), "open deal 1");
  const [opened] = await escrow.queryFilter(escrow.filters.Opened(1n));
  assert.equal(opened.args.buyer, deployer.address);
  assert.equal(opened.args.price, price);
  await reverts(escrow.refund.estimateGas(1n), escrow, "TooEarly");
  const sellerBefore = await provider.getBalance(seller.address);
  const key = "0x" + "c1".repeat(48);
  const delivery = await mined(await escrow.connect(seller).deliver(1n, key), "deliver deal 1");
  const gasPaid = delivery.gasUsed * delivery.gasPrice;
  assert.equal(await provider.getBalance(seller.address), sellerBefore + price - gasPaid);
  assert.equal(await escrow.encryptedKeyOf(1n), key);
  const delivered = await escrow.queryFilter(escrow.filters.Delivered(1n));
  assert.equal(delivered.length, 1);

  // A deal that times out: the buyer is refunded. The deadline must be later than the block that
  // includes the opening and soon enough to wait for; how many checkpoints inclusion takes depends
  // on the machine's load, so a margin the opening missed (the contract's DeadlineInPast, seen
  // as a reverted receipt whose block is past the deadline) is doubled and the deal opened again.
  const soon = await openBeforeDeadline(escrow, seller.address, datasetHash, price);
  while ((await provider.getBlock("latest")).timestamp <= soon) {
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await reverts(escrow.connect(seller).deliver.estimateGas(2n, key), escrow, "TooLate");
  const escrowHeld = await provider.getBalance(await escrow.getAddress());
  assert.equal(escrowHeld, price);
  await mined(await escrow.refund(2n), "refund deal 2");
  assert.equal(await provider.getBalance(await escrow.getAddress()), 0n);
  assert.equal((await escrow.queryFilter(escrow.filters.Refunded())).length, 1);
  step("all steps passed");
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
