#!/bin/sh
# Collects the CPU profile that `go build` uses for profile-guided
# optimization (cmd/letterbox/default.pgo): one server, a mixed workload of
# everything it serves, driven by `letterbox bench`:
#   LMTP deliveries of 10 KB (1 and 8 connections) and 1 MB messages,
#   deliveries through a 50-rule Sieve script, IMAP (mixed commands and
#   FETCH 1:*), POP3 (download everything).
# The profile is a sample of where a working server spends its time, so
# that the compiler inlines and lays out those paths; it is not tied to one
# benchmark. Regenerate it after large changes: make pgo
#
# Usage (from the repository root): sh scripts/pgo-profile.sh [OUT]
set -eu
out=${1:-cmd/letterbox/default.pgo}
work=$(mktemp -d /tmp/pgo-profile.XXXXXX)
lb=$work/letterbox
# Built without a profile, so that the new one does not describe itself.
go build -pgo=off -o "$lb" ./cmd/letterbox
export LETTERBOX_DATA="$work/data"
cat > "$work/letterbox.toml" <<CONF
data_dir = "$work/data"
[imap]
listen = "127.0.0.1:24301"
[pop3]
listen = "127.0.0.1:24302"
[managesieve]
listen = ""
[lmtp]
listen = "127.0.0.1:24303"
CONF
"$lb" domain add example.com
for i in 0 1 2 3 4 5 6 7; do
  echo pw | "$lb" user add "u$i@example.com"
  echo pw | "$lb" user add "f$i@example.com"
  "$lb" sieve put "f$i@example.com" rules testdata/sieve/bench/50-rules.sieve
  "$lb" sieve activate "f$i@example.com" rules
done
"$lb" serve -config "$work/letterbox.toml" -cpuprofile "$work/cpu.pprof" 2> "$work/letterbox.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  "$lb" bench lmtp -addr 127.0.0.1:24303 -rcpt 'u%d@example.com' -n 1 -quiet >/dev/null 2>&1 && break
  sleep 0.2
done
bench="$lb bench lmtp -addr 127.0.0.1:24303 -users 8 -quiet"
$bench -rcpt 'u%d@example.com' -size 10K -c 1 -n 1000
$bench -rcpt 'u%d@example.com' -size 10K -c 8 -n 3000
$bench -rcpt 'f%d@example.com' -size 10K -c 8 -n 2000
$bench -rcpt 'u%d@example.com' -size 1M -c 2 -n 300
"$lb" bench imap -addr 127.0.0.1:24301 -scenario mixed -user 'u%d@example.com' -users 8 -password pw -clients 10 -duration 8s >/dev/null
"$lb" bench imap -addr 127.0.0.1:24301 -scenario fetch -user u0@example.com -password pw -duration 3s >/dev/null
"$lb" bench pop3 -addr 127.0.0.1:24302 -user u1@example.com -password pw -runs 3 >/dev/null
kill -INT $pid
wait $pid || true
trap - EXIT
cp "$work/cpu.pprof" "$out"
echo "wrote $out ($(wc -c < "$out") bytes); work files in $work"
