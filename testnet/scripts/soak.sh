#!/usr/bin/env bash
# The soak (issue "Reliability and security"): a 4-node testnet under steady load for a long
# time, with a fault every few minutes, sampling every node's resident memory.
#   up (4 nodes, 16-nonce plots, T = 1 s, k = 3) → a 200 tx/s run that funds the load accounts →
#   `load --rate RATE --duration DURATION --settle 180` in the background → every FAULT_EVERY s
#   one fault in turn: kill + restart node 3, pause + resume node 2, partition 0,1,2|3 + heal,
#   corrupt node 1's unit log (it must refuse to start) + a restore from a backup (a copy of node
#   0's unit log; moving the log aside is not enough once peers have pruned, see docs/testnet.md)
#   → RSS of every node every 30 s → the load report → down.
# usage: RATE=2000 DURATION=3600 FAULT_EVERY=300 testnet/scripts/soak.sh BIN_DIR NET_DIR OUT
#   OUT.load: the load report (JSON: submitted, applied, final); OUT.rss: `t_s node rss_kb`
#   lines; OUT.faults: what was done when; OUT: the summary (RSS slope per node after warm-up).
# Exit status: 0 when every acknowledged transfer is final and every corruption was refused.
set -u
if [ $# -ne 3 ]; then
    echo "usage: RATE=2000 DURATION=3600 FAULT_EVERY=300 $0 BIN_DIR NET_DIR OUT" >&2
    exit 2
fi
B=$1; D=$2; OUT=$3
RATE=${RATE:-2000}; DURATION=${DURATION:-3600}; FAULT_EVERY=${FAULT_EVERY:-300}
T=$B/vein-testnet
rm -rf "$D"
"$T" up --dir "$D" --nodes 4 --nonces 16 --interval-ms 1000 --k 3 > "$OUT.up" 2>&1 \
    || { echo "up failed:"; cat "$OUT.up"; exit 1; }
"$T" load --dir "$D" --rate 200 --duration 3 --settle 60 > "$OUT.fund" 2>&1
start=$(date +%s)
# A pause or partition fault may leave the client tens of seconds behind its schedule; the soak
# gives up only past LAG_MAX_S (load's own default, 30 s, is for throughput runs).
"$T" load --dir "$D" --rate "$RATE" --duration "$DURATION" --settle 180 \
    --lag-max-s "${LAG_MAX_S:-300}" > "$OUT.load" 2> "$OUT.progress" &
load_pid=$!
: > "$OUT.rss"; : > "$OUT.faults"
sample() {
    now=$(( $(date +%s) - start ))
    for p in /proc/[0-9]*; do
        c=$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null)
        case "$c" in
            *vein-node*"$D"/node*)
                n=$(echo "$c" | sed -E "s#.*$D/node([0-9]+).*#\1#")
                kb=$(awk '/^VmRSS/ {print $2}' "$p/status" 2>/dev/null)
                [ -n "$kb" ] && echo "$now $n $kb" >> "$OUT.rss" ;;
        esac
    done
}
fault() {
    echo "$(( $(date +%s) - start )) $*" >> "$OUT.faults"
}
corrupt_failures=0
step=0
next_fault=$FAULT_EVERY
while kill -0 "$load_pid" 2>/dev/null; do
    sample
    elapsed=$(( $(date +%s) - start ))
    if [ "$elapsed" -ge "$next_fault" ] && [ "$elapsed" -lt "$DURATION" ]; then
        case $((step % 4)) in
            0) fault "kill 3"; "$T" kill 3 --dir "$D" >> "$OUT.faults" 2>&1; sleep 20
               fault "restart 3"; "$T" restart 3 --dir "$D" >> "$OUT.faults" 2>&1 ;;
            1) fault "pause 2"; "$T" pause 2 --dir "$D" >> "$OUT.faults" 2>&1; sleep 20
               fault "resume 2"; "$T" resume 2 --dir "$D" >> "$OUT.faults" 2>&1 ;;
            2) fault "partition 0,1,2|3"; "$T" partition '0,1,2|3' --dir "$D" >> "$OUT.faults" 2>&1
               sleep 30; fault "heal"; "$T" heal --dir "$D" >> "$OUT.faults" 2>&1 ;;
            3) fault "corrupt 1"
               if ! "$T" corrupt 1 --dir "$D" >> "$OUT.faults" 2>&1; then
                   corrupt_failures=$((corrupt_failures + 1)); fault "corrupt 1 NOT REFUSED"
               fi
               mv "$D/node1/data/units.log" "$D/node1/data/units.log.damaged-$step"
               # A live copy may end in a half-written record: replay cuts a torn tail.
               cp "$D/node0/data/units.log" "$D/node1/data/units.log"
               fault "restart 1 (unit log restored from node 0's)"
               "$T" restart 1 --dir "$D" >> "$OUT.faults" 2>&1 ;;
        esac
        step=$((step + 1))
        next_fault=$(( next_fault + FAULT_EVERY ))
    fi
    sleep 30
done
wait "$load_pid"; load_status=$?
"$T" status --dir "$D" > "$OUT.status" 2>&1
for n in 0 1 2 3; do
    echo "node $n reverted_final $(grep -c 'a final checkpoint was reverted' "$D/node$n/node.log")" \
        >> "$OUT.status"
done
"$T" down --dir "$D" >> "$OUT.status" 2>&1
python3 - "$OUT" "$load_status" "$corrupt_failures" <<'PY' > "$OUT"
import json, sys
out, load_status, corrupt_failures = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
report = json.load(open(out + ".load"))
rows = [tuple(map(int, line.split())) for line in open(out + ".rss") if line.strip()]
warm = 600  # the first 10 minutes fill caches, windows and the DAG up to its pruning depth
slopes = {}
for node in sorted({n for _, n, _ in rows}):
    points = [(t, kb / 1024) for t, n, kb in rows if n == node and t >= warm]
    if len(points) < 3:
        continue
    mt = sum(t for t, _ in points) / len(points)
    mr = sum(r for _, r in points) / len(points)
    var = sum((t - mt) ** 2 for t, _ in points)
    slope = sum((t - mt) * (r - mr) for t, r in points) / var if var else 0.0
    slopes[node] = {"mib_per_hour": round(slope * 3600, 2), "samples": len(points),
                    "first_mib": round(points[0][1], 1), "last_mib": round(points[-1][1], 1)}
acknowledged = report.get("submitted", 0)
final = report.get("final_count", 0)
summary = {"load_exit": load_status, "submitted": acknowledged, "refused": report.get("refused"),
           "applied": report.get("applied"), "final": final,
           "all_acknowledged_final": acknowledged == final,
           "corruptions_not_refused": corrupt_failures, "rss_slope_after_warmup": slopes}
print(json.dumps(summary, indent=1))
PY
cat "$OUT"
python3 -c "import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s['all_acknowledged_final'] and s['corruptions_not_refused']==0 else 1)" "$OUT"
