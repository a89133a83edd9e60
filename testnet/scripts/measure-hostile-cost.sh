#!/usr/bin/env bash
# What one hostile peer costs a node until it is cut off (docs/testnet.md, "Hostile peers: what
# one costs"): CPU, memory and bandwidth. For each attack a fresh 1-node testnet on loopback;
# the attacker opens its connections, behaves as below, and waits until the node has closed
# every one of them (or 20 s). Reported per attack:
#   - node CPU: utime + stime of the node process (/proc/PID/stat) from the first connection to
#     the last cut-off, minus what the same node used in an equally long quiet window just
#     before (it forges a checkpoint a second on its own);
#   - bytes in: what the attacker wrote (the node read at most that); bytes out: what the node
#     sent to the attacker's connections (challenges), read until the node closed them;
#   - RSS growth: VmRSS at the end of the attack minus before it;
#   - cut off: seconds from the first connection until the node had closed the last one.
# Attacks:
#   oversize:  100 connections each send `00 00 40 00` (a hello claiming 4 MiB);
#   garbage:   60 connections each send the first transport's hello (an address as text), a
#              frame header claiming 4 MiB and 1 MiB of it;
#   trickle:   20 connections each send a hello one byte a second;
#   idle:      200 connections that send nothing;
#   made-up:   30 connections each send a correctly signed hello (a fresh key) claiming an
#              address nobody serves (127.0.0.1:1..30); the node dials each back once.
# Peers that pass the signed handshake (each has its own key and a listener on the address it
# claims, answering the node's dial-back), then send a garbage frame every 10 ms:
#   frames-undecodable: an envelope header of an unknown version (12-byte frames);
#   frames-random:      200 random bytes (a plausible length);
#   frames-body:        a transaction envelope (version 0, kind 1) with a random 120-byte body.
#   For these, bytes out also counts what the node sent to the peers' listeners (gossip on the
#   link it opened to verify them), and frames sent is in the attack column.
# usage: testnet/scripts/measure-hostile-cost.sh BIN_DIR NET_DIR [ATTACK ...]
#   BIN_DIR holds vein-testnet and vein-node (e.g. target/debug). Loopback only. Needs python3
#   with `cryptography` (Ed25519) for the signed hellos. Without ATTACKs, all of them.
#   NODES=4 (environment) attacks node 0 of a 4-node net instead of a lone node.
set -u
if [ $# -lt 2 ]; then
    echo "usage: $0 BIN_DIR NET_DIR [ATTACK ...]" >&2
    exit 2
fi
B=$1; D=$2; shift 2
ATTACKS=${*:-oversize garbage trickle idle made-up frames-undecodable frames-random frames-body}
NODES=${NODES:-1}
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); $NODES node(s)"
echo "| attack | connections | node CPU (ms) | bytes in | bytes out | RSS growth (MB) | cut off after (s) | refusals counted |"
echo "|---|---|---|---|---|---|---|---|"
for ATTACK in $ATTACKS; do
rm -rf "$D"
"$B/vein-testnet" up --dir "$D" --nodes "$NODES" --nonces 16 --interval-ms 1000 --k 3 \
    --label hostile > "$D.up" 2>&1 || { echo "up failed:"; cat "$D.up"; exit 1; }
python3 -I - "$D/testnet.json" "$ATTACK" <<'PY'
import json, os, selectors, socket, sys, threading, time, urllib.request
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

manifest = json.load(open(sys.argv[1]))
which = sys.argv[2]
node = manifest["nodes"][0]
pid = node["pid"]
host, port = node["listen"].rsplit(":", 1)
target = (host, int(port))
assert host.startswith("127."), "loopback only"
TICKS = os.sysconf("SC_CLK_TCK")
LIMIT_S = 20.0

def cpu_s():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14, 15)

def rss_mb():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")

def frame(payload):
    return len(payload).to_bytes(4, "little") + payload

def public_of(key):
    return key.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw)

def signed_hello(challenge, listen, key=None):
    key = key or Ed25519PrivateKey.generate()
    signature = key.sign(b"vein/p2p-hello/v1" + challenge + listen.encode())
    return frame(public_of(key) + signature + os.urandom(32) + listen.encode())

# What the node sent to the frames attackers' listeners (its dial-back links), in bytes.
listened = [0]
listened_lock = threading.Lock()

def answer_dial_back(sock, key):
    """The acceptor's half of the handshake as `key`, then read (and count) until closed."""
    sock.sendall(os.urandom(32))
    data = b""
    while len(data) < 4 or len(data) < 4 + int.from_bytes(data[:4], "little"):
        chunk = sock.recv(4096)
        if not chunk:
            return
        data += chunk
    hello = data[4:4 + int.from_bytes(data[:4], "little")]
    their_challenge = hello[96:128]
    sock.sendall(public_of(key) + key.sign(b"vein/p2p-ack/v1" + their_challenge))
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return
        with listened_lock:
            listened[0] += len(chunk)

def identity():
    """A key and a listener on loopback answering the node's dial-back as that key."""
    key = Ed25519PrivateKey.generate()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    def serve():
        while True:
            sock, _ = listener.accept()
            threading.Thread(target=answer_dial_back, args=(sock, key), daemon=True).start()
    threading.Thread(target=serve, daemon=True).start()
    return key, "127.0.0.1:%d" % listener.getsockname()[1]

def garbage(kind):
    if kind == "frames-undecodable":
        return frame(b"\xff\xff\x01\x00\x04\x00\x00\x00" + os.urandom(4))
    if kind == "frames-random":
        return frame(os.urandom(200))
    body = os.urandom(120)
    return frame(b"\x00\x00\x01\x00" + len(body).to_bytes(4, "little") + body)

time.sleep(3)  # the node settles after `up`
plans = {
    "oversize": (100, "00 00 40 00"),
    "garbage": (60, "hello + 1 MiB of a 4 MiB frame"),
    "trickle": (20, "a hello at 1 byte/s"),
    "idle": (200, "nothing"),
    "made-up": (30, "signed hello, made-up address"),
    "frames-undecodable": (10, "handshake, then envelopes of an unknown version"),
    "frames-random": (10, "handshake, then 200 random bytes a frame"),
    "frames-body": (10, "handshake, then transactions with a random body"),
}
FRAME_EVERY_S = 0.01
count, what = plans[which]

class Conn:
    def __init__(self, index):
        self.index = index
        self.sock = socket.create_connection(target)
        self.sock.setblocking(False)
        self.sent = 0
        self.received = b""
        self.closed_at = None
        self.pending = b""
        self.trickle = b""
        self.greeted = False
        self.identity = identity() if which.startswith("frames") else None
        self.frames = 0
        self.last_frame = 0.0

    def write(self, data):
        try:
            n = self.sock.send(data)
        except (BlockingIOError, InterruptedError):
            n = 0
        except OSError:
            return b""
        self.sent += n
        return data[n:]

# A quiet window as long as the longest expected attack, for the node's own CPU rate.
quiet_start_cpu, quiet_start = cpu_s(), time.monotonic()
time.sleep(6)
quiet_rate = (cpu_s() - quiet_start_cpu) / (time.monotonic() - quiet_start)

rss_before = rss_mb()
cpu_before = cpu_s()
start = time.monotonic()
conns = [Conn(i) for i in range(count)]
selector = selectors.DefaultSelector()
for conn in conns:
    selector.register(conn.sock, selectors.EVENT_READ, conn)
    if which == "oversize":
        conn.pending = bytes.fromhex("00004000")
    elif which == "garbage":
        conn.pending = frame(b"127.0.0.1:9") + (4 << 20).to_bytes(4, "little") + bytes(1 << 20)
    elif which == "trickle":
        conn.trickle = frame(b"x" * 100)
last_trickle = time.monotonic()
while any(conn.closed_at is None for conn in conns) and time.monotonic() - start < LIMIT_S:
    for key, _ in selector.select(timeout=0.005 if which.startswith("frames") else 0.05):
        conn = key.data
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            continue
        except OSError:
            data = b""
        if not data:
            conn.closed_at = time.monotonic()
            selector.unregister(conn.sock)
            conn.sock.close()
            continue
        conn.received += data
        if which == "made-up" and not conn.greeted and len(conn.received) >= 32:
            conn.greeted = True
            conn.pending = signed_hello(conn.received[:32], f"127.0.0.1:{conn.index + 1}")
        if conn.identity and not conn.greeted and len(conn.received) >= 32:
            conn.greeted = True
            key, claimed = conn.identity
            conn.pending = signed_hello(conn.received[:32], claimed, key)
    for conn in conns:
        if conn.closed_at is None and conn.pending:
            conn.pending = conn.write(conn.pending)
    if which.startswith("frames"):
        now = time.monotonic()
        for conn in conns:
            # After the node's 32-byte challenge and 96-byte acknowledgement.
            acked = len(conn.received) >= 128
            if conn.closed_at is None and acked and not conn.pending \
                    and now - conn.last_frame >= FRAME_EVERY_S:
                conn.last_frame = now
                conn.frames += 1
                conn.pending = conn.write(garbage(which))
    if which == "trickle" and time.monotonic() - last_trickle >= 1.0:
        last_trickle = time.monotonic()
        for conn in conns:
            if conn.closed_at is None and conn.trickle:
                conn.write(conn.trickle[:1])
                conn.trickle = conn.trickle[1:]
end = time.monotonic()
cpu_ms = (cpu_s() - cpu_before - quiet_rate * (end - start)) * 1000
rss_after = rss_mb()
open_count = sum(1 for conn in conns if conn.closed_at is None)
cut = max((conn.closed_at or end) - start for conn in conns)
cut_text = f"{cut:.1f}" if open_count == 0 else f"> {LIMIT_S:.0f} ({open_count} open)"
metrics = urllib.request.urlopen(f"http://{node['api']}/metrics", timeout=10).read().decode()
refused = [l.split('kind="')[1].replace('"}', ":") for l in metrics.splitlines()
           if l.startswith("vein_p2p_refused_total") and not l.endswith(" 0")]
if which.startswith("frames"):
    what += f" ({sum(c.frames for c in conns):,} frames sent)"
bytes_out = sum(len(c.received) for c in conns) + listened[0]
print(f"| {which}: {what} | {count} | {cpu_ms:.0f} | {sum(c.sent for c in conns):,} | "
      f"{bytes_out:,} | {rss_after - rss_before:+.0f} | {cut_text} | "
      f"{', '.join(refused) if refused else 'none'} |")
PY
"$B/vein-testnet" down --dir "$D" > /dev/null 2>&1
done
rm -rf "$D" "$D.up"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
