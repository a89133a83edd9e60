#!/usr/bin/env bash
# What hostile peers cost a node (docs/testnet.md, "Hostile peers: what one costs"): for each
# attack a fresh 1-node testnet on loopback, the node's RSS (VmRSS) read before and 3 s into
#   A: 100 connections each send only `00 00 40 00` (a hello claiming 4 MiB) and stay open;
#   B: 60 connections each send a hello of the first transport (an address as text), a frame
#      header claiming 4 MiB and 1 MiB of it, and stay open (since the signed handshake of
#      node/src/runtime/handshake.rs that hello is refused, `hello_invalid`, before any frame
#      is read; one that passes needs a key and a listener serving its claimed address);
# and whether its connections are still open then, and the /metrics refusal counters.
# usage: testnet/scripts/measure-hostile.sh BIN_DIR NET_DIR LABEL
#   BIN_DIR holds vein-testnet and vein-node (e.g. target/debug). Loopback only.
set -u
if [ $# -ne 3 ]; then
    echo "usage: $0 BIN_DIR NET_DIR LABEL" >&2
    exit 2
fi
B=$1; D=$2; L=$3
echo "| build | attack | RSS before (MB) | RSS after (MB) | growth (MB) | still open after 3 s | refusals counted |"
echo "|---|---|---|---|---|---|---|"
for ATTACK in A B; do
rm -rf "$D"
"$B/vein-testnet" up --dir "$D" --nodes 1 --nonces 16 --interval-ms 1000 --k 3 --label hostile \
    > "$D.up" 2>&1 || { echo "up failed:"; cat "$D.up"; exit 1; }
python3 - "$D/testnet.json" "$L" "$ATTACK" <<'PY'
import json, socket, sys, time, urllib.request

manifest = json.load(open(sys.argv[1]))
label, which = sys.argv[2], sys.argv[3]
node = manifest["nodes"][0]
pid = node["pid"]
host, port = node["listen"].rsplit(":", 1)
target = (host, int(port))
assert host.startswith("127."), "loopback only"

def rss_mb():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")

def settle():
    time.sleep(3)

def still_open(sockets):
    """Connections the node has not closed (a read that would block means open). The node
    speaks first (its 32-byte handshake challenge): what it sent is read past, end of stream
    after it means closed."""
    count = 0
    for s in sockets:
        s.setblocking(False)
        try:
            while True:
                data = s.recv(4096)
                if data == b"":
                    break
        except BlockingIOError:
            count += 1
        except OSError:
            pass
    return count

def frame(payload):
    return len(payload).to_bytes(4, "little") + payload

def attack(count, payload):
    sockets = []
    for _ in range(count):
        s = socket.create_connection(target)
        try:
            s.sendall(payload)
        except OSError:
            pass
        sockets.append(s)
    return sockets

settle()
before = rss_mb()
if which == "A":
    name = "100 × `00 00 40 00`"
    sockets = attack(100, bytes.fromhex("00004000"))
else:
    name = "60 × hello + 1 MiB of a 4 MiB frame"
    hello = frame(b"127.0.0.1:9")
    sockets = attack(60, hello + (4 << 20).to_bytes(4, "little") + bytes(1 << 20))
settle()
during = rss_mb()
open_count = still_open(sockets)
metrics = urllib.request.urlopen(f"http://{node['api']}/metrics", timeout=10).read().decode()
refused = [l.split('kind="')[1].replace('"}', ":") for l in metrics.splitlines()
           if l.startswith("vein_p2p_refused_total") and not l.endswith(" 0")]
print(f"| {label} | {name} | {before:.0f} | {during:.0f} | {during - before:+.0f} | "
      f"{open_count} of {len(sockets)} | {', '.join(refused) if refused else 'none'} |")
PY
"$B/vein-testnet" down --dir "$D" > /dev/null 2>&1
done
