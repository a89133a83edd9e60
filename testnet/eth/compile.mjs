// Compile contracts/*.sol with the pinned solc-js (package-lock.json) into
// contracts/build/<Name>.json ({abi, bytecode}). With --check, compile and fail if the committed
// build differs: the bytecode in the repository is the bytecode of the sources beside it.
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import solc from "solc";

const here = dirname(fileURLToPath(import.meta.url));
const contracts = join(here, "..", "..", "contracts");
const build = join(contracts, "build");
const check = process.argv.includes("--check");

const sources = {};
for (const file of readdirSync(contracts).filter((f) => f.endsWith(".sol")).sort()) {
  sources[file] = { content: readFileSync(join(contracts, file), "utf8") };
}
const input = {
  language: "Solidity",
  sources,
  settings: {
    // vein executes the Cancun rules (node/src/core/evm/mod.rs, SPEC).
    evmVersion: "cancun",
    optimizer: { enabled: true, runs: 200 },
    // No metadata hash: the bytecode then depends on the sources only, not on their paths.
    metadata: { bytecodeHash: "none" },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === "error");
for (const message of output.errors || []) console.error(message.formattedMessage);
if (errors.length > 0) process.exit(1);

mkdirSync(build, { recursive: true });
let differs = 0;
for (const [file, byName] of Object.entries(output.contracts).sort()) {
  for (const [name, contract] of Object.entries(byName).sort()) {
    const artifact = JSON.stringify(
      { contract: name, source: file, compiler: solc.version(), abi: contract.abi,
        bytecode: "0x" + contract.evm.bytecode.object },
      null, 2) + "\n";
    const path = join(build, `${name}.json`);
    if (check) {
      let committed = "";
      try { committed = readFileSync(path, "utf8"); } catch { committed = ""; }
      if (committed !== artifact) {
        console.error(`contracts/build/${name}.json differs from a fresh compile of ${file}`);
        differs += 1;
      }
    } else {
      writeFileSync(path, artifact);
      console.log(`wrote contracts/build/${name}.json`);
    }
  }
}
if (differs > 0) {
  console.error("run `npm run compile --prefix testnet/eth` and commit contracts/build/");
  process.exit(1);
}
