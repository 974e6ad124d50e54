#!/bin/sh
# Measures how long small deliveries wait behind large ones in the same
# domain: one Letterbox server, a stream of 10 KB messages over one LMTP
# connection while 50 MB messages arrive over another, for each value of
# storage.blob_file_min_size given (default: 0, the database only, and
# 262144, the default). Prints the small messages' latency, whose max is
# the longest wait, and the large messages' rate.
#
# Usage (from the repository root): sh scripts/bench-large-stall.sh [RUNS] [THRESHOLD...]
set -eu
runs=${1:-2}
[ $# -gt 0 ] && shift
thresholds=${*:-0 262144}
work=$(mktemp -d /tmp/stall-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
lb=$work/letterbox
go build -o "$lb" ./cmd/letterbox
port=24260
for run in $(seq "$runs"); do
  for th in $thresholds; do
    data=$work/data-$th-$run
    export LETTERBOX_DATA="$data"
    cat > "$work/letterbox.toml" <<CONF
data_dir = "$data"
[storage]
blob_file_min_size = $th
[imap]
listen = ""
[pop3]
listen = ""
[managesieve]
listen = ""
[lmtp]
listen = "127.0.0.1:$port"
CONF
    "$lb" domain add example.com >/dev/null
    for i in 0 1 2 3 4 5 6 7; do echo pw | "$lb" user add "u$i@example.com" >/dev/null; done
    "$lb" serve -config "$work/letterbox.toml" 2>/dev/null &
    pid=$!
    for _ in $(seq 50); do "$lb" bench lmtp -addr 127.0.0.1:$port -n 1 -quiet >/dev/null 2>&1 && break; sleep 0.1; done
    "$lb" bench lmtp -addr 127.0.0.1:$port -users 8 -size 10K -c 1 -n 3000 > "$work/small.txt" &
    small=$!
    sleep 0.3
    "$lb" bench lmtp -addr 127.0.0.1:$port -users 8 -size 50000000 -c 1 -n 4 -quiet > "$work/large.txt"
    wait $small
    echo "blob_file_min_size=$th run $run:"
    echo "  10 KB: $(grep 'latency' "$work/small.txt" | sed 's/^ *//')"
    echo "  50 MB: $(sed 's/^lmtp [^ ]* //' "$work/large.txt")"
    kill $pid
    wait $pid 2>/dev/null || true
    rm -rf "$data"
  done
done
