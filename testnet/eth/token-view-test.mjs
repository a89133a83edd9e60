// A vein business token seen by ethers as an ERC-20 (docs/tokens.md, "The ERC-20 view"): a
// `Contract` with the standard ERC-20 ABI at the token's `erc20_address` reads the metadata and
// balances, transfers, waits for the receipt, filters the `Transfer` log, and sees an
// over-balance transfer revert; every balance is checked through ethers and through the node's
// own token API. Every step asserts; any failure exits 1.
//
//   VEIN_API=http://127.0.0.1:PORT VEIN_TOKEN=<64 hex> VEIN_TOKEN_HELD=<units> node token-view-test.mjs
//
// The caller (testnet/tests/eth.rs) issues the token, moves VEIN_TOKEN_HELD units of it to the
// native account of the key 0x…01's address (12 zero bytes, then the address; docs/evm.md) and
// funds that account with native units for gas. Nothing else may hold the second key's address.
import assert from "node:assert/strict";
import { ethers } from "ethers";

const api = process.env.VEIN_API;
const tokenId = process.env.VEIN_TOKEN;
const held = BigInt(process.env.VEIN_TOKEN_HELD ?? "0");
if (!api || !tokenId || held === 0n) throw new Error("set VEIN_API, VEIN_TOKEN and VEIN_TOKEN_HELD");

// cacheTimeout -1: see ethers-test.mjs (a checkpoint can execute a transaction within ethers'
// 250 ms request cache, so a cached balance or nonce would be stale).
const provider = new ethers.JsonRpcProvider(`${api}/rpc`, undefined, { pollingInterval: 200, cacheTimeout: -1 });
const holder = new ethers.Wallet("0x" + "00".repeat(31) + "01", provider);
const recipient = new ethers.Wallet("0x" + "00".repeat(31) + "02", provider).address;
const step = (text) => console.log(`[${new Date().toISOString()}] ${text}`);

// The standard ERC-20 ABI (EIP-20), nothing vein-specific.
const ERC20_ABI = [
  "function name() view returns (string)",
  "function symbol() view returns (string)",
  "function decimals() view returns (uint8)",
  "function totalSupply() view returns (uint256)",
  "function balanceOf(address owner) view returns (uint256)",
  "function transfer(address to, uint256 value) returns (bool)",
  "function allowance(address owner, address spender) view returns (uint256)",
  "function approve(address spender, uint256 value) returns (bool)",
  "function transferFrom(address from, address to, uint256 value) returns (bool)",
  "event Transfer(address indexed from, address indexed to, uint256 value)",
  "event Approval(address indexed owner, address indexed spender, uint256 value)",
];

async function getJson(route) {
  const response = await fetch(`${api}${route}`);
  assert.equal(response.status, 200, `GET ${route}: ${response.status}`);
  return response.json();
}

/// The native account holding an EVM address's balances: 12 zero bytes, then the address.
const accountOf = (address) => "00".repeat(12) + address.slice(2).toLowerCase();

/// A balance as the node's token API reports it.
async function apiBalance(address) {
  const answer = await getJson(`/token/${tokenId}/balance/${accountOf(address)}`);
  return BigInt(answer.balance);
}

async function main() {
  const summary = await getJson(`/token/${tokenId}`);
  step(`token ${summary.symbol} at ${summary.erc20_address}, supply ${summary.total_supply}`);
  assert.match(summary.erc20_address, /^0xe20ce20c[0-9a-f]{32}$/);
  const token = new ethers.Contract(summary.erc20_address, ERC20_ABI, holder);

  // Metadata and balances, as any wallet reads them.
  assert.equal(await token.name(), summary.name);
  assert.equal(await token.symbol(), summary.symbol);
  assert.equal(await token.decimals(), BigInt(summary.decimals));
  assert.equal(await token.totalSupply(), BigInt(summary.total_supply));
  assert.equal(await token.balanceOf(holder.address), held);
  assert.equal(await apiBalance(holder.address), held);
  assert.equal(await token.balanceOf(recipient), 0n);

  // A transfer: mined with status 1, moving the ledger balance the API reports.
  const amount = 12_345n;
  assert.ok(amount < held, "the holder must hold more than the transfer");
  const tx = await token.transfer(recipient, amount);
  const receipt = await tx.wait(1, 120_000);
  assert.ok(receipt, "transfer: no receipt");
  assert.equal(receipt.status, 1, `transfer: status ${receipt.status}`);
  step(`transfer: block ${receipt.blockNumber}, gas ${receipt.gasUsed}`);
  assert.equal(await token.balanceOf(holder.address), held - amount);
  assert.equal(await token.balanceOf(recipient), amount);
  assert.equal(await apiBalance(holder.address), held - amount);
  assert.equal(await apiBalance(recipient), amount);
  assert.equal(await token.totalSupply(), BigInt(summary.total_supply), "a transfer keeps the supply");

  // The Transfer log: in the receipt, and found by a filter on both indexed topics.
  assert.equal(receipt.logs.length, 1, "one log in the transfer's receipt");
  assert.equal(receipt.logs[0].address.toLowerCase(), summary.erc20_address);
  const events = await token.queryFilter(token.filters.Transfer(holder.address, recipient), 0);
  assert.equal(events.length, 1, "one Transfer(holder -> recipient) log");
  assert.equal(events[0].args.from, holder.address);
  assert.equal(events[0].args.to, recipient);
  assert.equal(events[0].args.value, amount);
  assert.equal(events[0].transactionHash, tx.hash);
  assert.equal(events[0].blockNumber, receipt.blockNumber);
  const none = await token.queryFilter(token.filters.Transfer(recipient, holder.address), 0);
  assert.equal(none.length, 0, "no log in the other direction");

  // Over the balance: refused by the gas estimate, and, sent anyway with a gas limit, mined as a
  // reverted transaction (status 0) that moves nothing.
  const tooMuch = held - amount + 1n;
  try {
    await token.transfer.estimateGas(recipient, tooMuch);
    assert.fail("estimating an over-balance transfer succeeded");
  } catch (error) {
    assert.equal(error.code, "CALL_EXCEPTION", `estimate: ${error.shortMessage ?? error}`);
    assert.equal(error.reason, "transfer amount exceeds balance", `estimate: ${error.shortMessage}`);
  }
  const doomed = await token.transfer(recipient, tooMuch, { gasLimit: 100_000n });
  try {
    await doomed.wait(1, 120_000);
    assert.fail("an over-balance transfer was mined with status 1");
  } catch (error) {
    assert.equal(error.code, "CALL_EXCEPTION", `over-balance: ${error.shortMessage ?? error}`);
    assert.equal(error.receipt?.status, 0, "over-balance: the receipt's status");
    step(`over-balance transfer: reverted in block ${error.receipt.blockNumber}`);
  }
  assert.equal(await token.balanceOf(holder.address), held - amount);
  assert.equal(await token.balanceOf(recipient), amount);
  assert.equal(await apiBalance(holder.address), held - amount);
  assert.equal(await apiBalance(recipient), amount);
  const after = await token.queryFilter(token.filters.Transfer(holder.address), 0);
  assert.equal(after.length, 1, "the reverted transfer left no log");
  step("all steps passed");
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
