#!/usr/bin/env bash
# The node's API fuzzed from its own OpenAPI document (GET /openapi.json) by schemathesis:
# a one-node testnet, every operation with generated valid and invalid inputs (the operator
# token included, so the privileged routes are reached too), and the checks the API promises:
# no 5xx, every status code, content type and JSON body as the document says.
# usage: testnet/scripts/schemathesis.sh BIN_DIR [SCHEMATHESIS] [MAX_EXAMPLES]
#   BIN_DIR holds vein-testnet and vein-node (e.g. target/debug); SCHEMATHESIS defaults to the
#   CI venv's (target/ci-venv/bin/schemathesis). Exit status: schemathesis's (0: no failure).
set -u
if [ $# -lt 1 ]; then
    echo "usage: $0 BIN_DIR [SCHEMATHESIS] [MAX_EXAMPLES]" >&2
    exit 2
fi
B=$(realpath "$1")
ST=$(realpath "${2:-target/ci-venv/bin/schemathesis}")
EXAMPLES=${3:-30}
D=$(mktemp -d)
trap '"$B/vein-testnet" down --dir "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
"$B/vein-testnet" up --dir "$D" --nodes 1 --nonces 8 --interval-ms 1000 --k 3 > "$D/up.log" 2>&1 \
    || { echo "up failed:"; cat "$D/up.log"; exit 1; }
api=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['nodes'][0]['api'])" \
    "$D/testnet.json")
# Deterministic generation: the same inputs on every run, so a failure is one to replay. Run
# from the scratch directory: schemathesis keeps its cache (.schemathesis/) in the working one.
cd "$D" || exit 1
"$ST" run "http://$api/openapi.json" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "$EXAMPLES" --generation-deterministic \
    -H "Authorization: Bearer $(cat "$D/api-token")"
