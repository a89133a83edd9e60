#!/usr/bin/env bash
# One load measurement on a fresh 4-node testnet, as docs/testnet.md reports them:
#   up (4 nodes, 16-nonce plots, T = 1 s, k = 3) → a 200 tx/s funding run → the measured run
#   (RATE tx/s for DURATION s, default 20, settle 60 s) → down. Node CPU is utime + stime of
#   the four node processes across the measured run (clock ticks, 100 per second here); the
#   client's CPU (signing, HTTP, settling) is bash's `time` of the load command.
# usage: RATE=5000 DURATION=20 testnet/scripts/measure-load.sh BIN_DIR NET_DIR LABEL OUT
#   TOKEN=1: token transfers (docs/tokens.md, "Token load"): the funding run issues a token
#   (`load --token new`) and funds the load accounts with it, the measured run moves that token.
#   BIN_DIR holds vein-testnet and vein-node (e.g. target/release); OUT.load is the load
#   report (JSON), OUT.progress its progress lines, OUT the CPU ticks and load averages.
#   Each phase is announced on stdout with the time. The measured run stops sending once it
#   falls LAG_MAX_S (default 30) s behind its schedule and then exits 1 (docs/testnet.md,
#   "Load"); its report is still written.
set -u
if [ $# -ne 4 ]; then
    echo "usage: RATE=5000 DURATION=20 $0 BIN_DIR NET_DIR LABEL OUT" >&2
    exit 2
fi
B=$1; D=$2; L=$3; OUT=$4
RATE=${RATE:-5000}
DURATION=${DURATION:-20}
LAG_MAX_S=${LAG_MAX_S:-30}
phase() { echo "$(date -u +%T) $*"; }
rm -rf "$D"
phase "up: 4 nodes in $D"
"$B/vein-testnet" up --dir "$D" --nodes 4 --nonces 16 --interval-ms 1000 --k 3 --label "$L" \
    > "$OUT.up" 2>&1 || { echo "up failed:"; cat "$OUT.up"; exit 1; }
pids() {
    for p in /proc/[0-9]*; do
        c=$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null)
        case "$c" in *vein-node*"$D"*) echo "${p#/proc/}" ;; esac
    done
}
cpu() {
    t=0
    for p in $(pids); do
        read -r u s < <(cut -d' ' -f14,15 "/proc/$p/stat")
        t=$((t + u + s))
    done
    echo "$t"
}
echo "pids: $(pids | tr '\n' ' ')" > "$OUT"
TOKEN_ARGS=()
if [ -n "${TOKEN:-}" ]; then
    phase "funding run: issuing a token, funding the load accounts ($OUT.fund)"
    "$B/vein-testnet" load --dir "$D" --rate 200 --duration 3 --settle 60 --token new \
        > "$OUT.fund" 2>&1
    T=$(sed -n 's/.*"token": "\([0-9a-f]\{64\}\)".*/\1/p' "$OUT.fund")
    [ -n "$T" ] || { echo "the funding run issued no token:"; cat "$OUT.fund"; exit 1; }
    TOKEN_ARGS=(--token "$T")
else
    phase "funding run ($OUT.fund)"
    "$B/vein-testnet" load --dir "$D" --rate 200 --duration 3 --settle 60 > "$OUT.fund" 2>&1
fi
c0=$(cpu); date -u +%T >> "$OUT"; uptime >> "$OUT"
TIMEFORMAT='client cpu: %U s user, %S s system, %R s wall'
phase "measured run: $RATE/s for $DURATION s, settle 60 s (progress: $OUT.progress)"
{ time "$B/vein-testnet" load --dir "$D" --rate "$RATE" --duration "$DURATION" --settle 60 \
    --lag-max-s "$LAG_MAX_S" "${TOKEN_ARGS[@]}" > "$OUT.load" 2> "$OUT.progress"; } 2>> "$OUT"
status=$?
c1=$(cpu); uptime >> "$OUT"
echo "node cpu ticks during run: $((c1 - c0))" >> "$OUT"
echo "load exit status: $status" >> "$OUT"
[ "$status" -eq 0 ] || { phase "the measured run failed (exit $status):"; tail -1 "$OUT.progress"; }
phase "down"
"$B/vein-testnet" down --dir "$D" >> "$OUT" 2>&1
