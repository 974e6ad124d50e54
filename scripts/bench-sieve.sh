#!/bin/sh
# Measures what a 50-rule Sieve script (testdata/sieve/bench/50-rules.sieve:
# header, address, body and regex tests, none matching, so all 50 run)
# costs LMTP delivery: one Letterbox server, users f0..f7 with the script
# active and p0..p7 without, runs interleaved with `letterbox bench lmtp`
# (p f in odd runs, f p in even ones, so that neither always goes first);
# prints the medians, their ratio and the median of the per-run ratios.
#
# Usage (from the repository root): sh scripts/bench-sieve.sh [RUNS]   (default 5)
set -eu
runs=${1:-5}
work=$(mktemp -d /tmp/sieve-bench.XXXXXX)
port=24250
lb=$work/letterbox
go build -o "$lb" ./cmd/letterbox
export LETTERBOX_DATA="$work/data"
cat > "$work/letterbox.toml" <<CONF
data_dir = "$work/data"
[imap]
listen = ""
[pop3]
listen = ""
[managesieve]
listen = ""
[lmtp]
listen = "127.0.0.1:$port"
CONF
"$lb" domain add example.com
for i in 0 1 2 3 4 5 6 7; do
  echo pw | "$lb" user add "f$i@example.com"
  echo pw | "$lb" user add "p$i@example.com"
  "$lb" sieve put "f$i@example.com" rules testdata/sieve/bench/50-rules.sieve
  "$lb" sieve activate "f$i@example.com" rules
done
"$lb" serve -config "$work/letterbox.toml" 2> "$work/letterbox.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  "$lb" bench lmtp -addr 127.0.0.1:$port -rcpt 'p%d@example.com' -n 1 -quiet >/dev/null 2>&1 && break
  sleep 0.2
done
scenarios='10K-c1:-size 10K -c 1 -n 500
10K-c8:-size 10K -c 8 -n 3000'
for run in $(seq "$runs"); do
  order="p f"; [ $((run % 2)) = 0 ] && order="f p"
  echo "$scenarios" | while IFS=: read -r name flags; do
    for who in $order; do
      # shellcheck disable=SC2086
      "$lb" bench lmtp -addr 127.0.0.1:$port -rcpt "$who%d@example.com" -users 8 $flags -quiet -json "$work/$who-$name-$run.json"
    done
  done
done
python3 - "$work" <<'PY'
import glob, json, statistics, sys
work = sys.argv[1]
def runs(who, name):
    files = glob.glob(f"{work}/{who}-{name}-*.json")
    files.sort(key=lambda f: int(f.rsplit("-", 1)[1].split(".")[0]))
    return [json.load(open(f))["messages_per_s"] for f in files]
for name in ["10K-c1", "10K-c8"]:
    pv, fv = runs("p", name), runs("f", name)
    p, f = statistics.median(pv), statistics.median(fv)
    paired = statistics.median([b / a for a, b in zip(pv, fv)])
    print(f"{name}: no script {p:.0f} msg/s, 50-rule script {f:.0f} msg/s: {100*(1-f/p):+.1f}% cost;"
          f" median of per-run ratios {paired:.3f} ({100*(1-paired):+.1f}%)"
          f"   runs {[round(v) for v in pv]} vs {[round(v) for v in fv]}")
PY
grep -c 'sieve' "$work/letterbox.log" | sed 's/^/sieve log lines: /'
echo "results: $work"
