# vein: one node, three homes (tokio testnet, madsim simulator, bare state machine).
# `./just` installs `just` if needed and forwards to it; every recipe also works with plain `just`.

set shell := ["bash", "-euo", "pipefail", "-c"]

# The simulator builds with `--cfg madsim` into its own target directory so that the normal
# build is not invalidated every time.
madsim_env := "RUSTFLAGS='--cfg madsim' CARGO_TARGET_DIR=target/madsim"

# List recipes.
default:
    @just --list

# The main job: the default scenario suite, one report in out/suite (summary.md, index.html,
# metrics.json, plots/). Exit 1 from the suite means the family-wise gate rejected a reference
# (docs/scenarios.md, "The gate"): the report says which; that is a finding, not a crash, so the
# recipe still succeeds.
run *args:
    #!/usr/bin/env bash
    set -uo pipefail
    cargo build --profile sim -q -p vein-scenarios
    target/sim/vein-scenarios suite --out out/suite {{args}}
    status=$?
    if [ "$status" -eq 1 ]; then
        echo "note: the gate rejects a reference (column gate); see out/suite/summary.md"
    elif [ "$status" -ne 0 ]; then
        exit "$status"
    fi
    echo "report: out/suite/index.html"

# Issue #18's ordering-power table (docs/evm.md, "Ordering power"): the sandwich family over
# the attacker's share q and the victims' slippage, 16 seeds a point, report in
# out/ordering-power. Exit 1 is the gate rejecting a reference, a finding (as for `run`).
ordering-power *args:
    #!/usr/bin/env bash
    set -uo pipefail
    cargo build --profile sim -q -p vein-scenarios
    target/sim/vein-scenarios sweep scenarios/ordering-power.toml \
        --param q=0.1,0.2,0.3,0.4 --param slippage=0.005,0.01,0.02,0.05 --seeds 16 \
        --out out/ordering-power {{args}}
    status=$?
    if [ "$status" -gt 1 ]; then exit "$status"; fi
    echo "report: out/ordering-power/summary.md"

# A quick in-memory network demo (12 nodes, 10 simulated minutes).
demo:
    cargo run --release -q -p vein-node --example localnet-demo

# The madsim simulator, e.g. `just sim run --nodes 50 --duration 120`.
sim *args:
    {{madsim_env}} cargo run --profile sim -q -p vein-sim -- {{args}}

# The whole test suite: unit, property, integration and simulator tests.
test:
    #!/usr/bin/env bash
    set -euo pipefail
    # The testnet tests start the vein-node binary. Built here, before any test runs, their own
    # freshness check finds it current; otherwise several test processes may build it at once
    # and one relinks it while another is starting a node from it.
    cargo build -q -p vein-node --bin vein-node
    # The ethers test's packages (testnet/eth, pinned in its package-lock.json), once.
    if command -v npm >/dev/null && [ ! -d testnet/eth/node_modules ]; then
        npm ci --prefix testnet/eth --no-audit --no-fund --silent
    fi
    if cargo nextest --version >/dev/null 2>&1; then
        cargo nextest run --workspace --profile ci
    else
        cargo test --workspace --no-fail-fast
    fi
    if [ -d sim/tests ]; then
        {{madsim_env}} cargo test --profile sim -p vein-sim --no-fail-fast
    fi

# Formatting and lints, as CI runs them.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings
    {{madsim_env}} cargo clippy -p vein-sim --all-targets -- -D warnings

# Benchmarks that print tables (core, plotting).
bench:
    cargo bench -p vein-node --bench core
    cargo run --release -q -p vein-node -- bench-plot

# A local testnet of real node processes, e.g. `just testnet up --nodes 4` (docs/testnet.md).
testnet *args:
    #!/usr/bin/env bash
    set -euo pipefail
    # A first build takes minutes: say so, and let cargo show its progress.
    if [ ! -x target/debug/vein-node ] || [ ! -x target/debug/vein-testnet ]; then
        echo "building vein-node and vein-testnet (the first build takes a few minutes)..." >&2
        cargo build -p vein-node -p vein-testnet
    else
        cargo build -q -p vein-node -p vein-testnet
    fi
    cargo run -q -p vein-testnet -- {{args}}

# Federated-learning poisoning and free-rider tables over seeds (docs/federated-learning.md).
fl-poisoning seeds="5":
    cargo run -q -p vein-fl-lab --bin vein-fl-poisoning -- --seeds {{seeds}}
