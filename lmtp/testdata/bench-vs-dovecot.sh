#!/bin/sh
# Measures Letterbox's LMTP delivery against Dovecot 2.3's LMTP on this
# machine, with the same load generator (letterbox bench lmtp), servers
# side by side on loopback ports, runs interleaved; prints the median of
# each scenario and the ratios.
#
# Usage (from the repository root, as root, with dovecot-lmtpd installed):
#   sh lmtp/testdata/bench-vs-dovecot.sh [RUNS]      (default 5)
# BLOB_BACKEND=file keeps Letterbox's message bodies in files (default sql);
# BLOB_FILE_MIN_SIZE=N keeps messages of N bytes or more in files (default
# 262144; 0 keeps every message in the database).
#
# Dovecot: maildir, default fsync (mail_fsync = optimized), static users
# (uid nobody), no Sieve and no quota plugin (Letterbox runs neither yet).
# Letterbox: SQLite, default config but for the listeners; its log at the
# default level (info, one line per delivery, as Dovecot's).
set -eu
runs=${1:-5}
command -v dovecot >/dev/null && [ -x /usr/lib/dovecot/lmtp ] || { echo "needs dovecot-lmtpd" >&2; exit 1; }
work=$(mktemp -d /tmp/lmtp-bench.XXXXXX)
chmod 755 "$work"
lbport=24240
dvport=24241
lb=$work/letterbox
go build -o "$lb" ./cmd/letterbox

# Letterbox.
export LETTERBOX_DATA="$work/lb-data"
cat > "$work/letterbox.toml" <<CONF
data_dir = "$work/lb-data"
[storage]
blob_backend = "${BLOB_BACKEND:-sql}"
${BLOB_FILE_MIN_SIZE:+blob_file_min_size = $BLOB_FILE_MIN_SIZE}
[imap]
listen = ""
[pop3]
listen = ""
[managesieve]
listen = ""
[lmtp]
listen = "127.0.0.1:$lbport"
CONF
"$lb" domain add example.com
for i in 0 1 2 3 4 5 6 7; do echo pw | "$lb" user add "u$i@example.com"; done
"$lb" serve -config "$work/letterbox.toml" 2> "$work/letterbox.log" &
lbpid=$!

# Dovecot.
mkdir -p "$work/dv/run" "$work/dv/state" "$work/dv/users"
chown nobody:nogroup "$work/dv/users"
cat > "$work/dv/dovecot.conf" <<CONF
base_dir = $work/dv/run
state_dir = $work/dv/state
instance_name = lmtp-bench
log_path = $work/dv/dovecot.log
mail_location = maildir:~/Maildir
first_valid_uid = 1
ssl = no
protocols = lmtp
postmaster_address = postmaster@example.com
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
auth_username_format = %Ln
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$work/dv/users/%n
}
passdb {
  driver = static
  args = nopassword=y
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $dvport
  }
}
CONF
dovecot -c "$work/dv/dovecot.conf"
cleanup() {
  kill "$lbpid" 2>/dev/null || true
  kill "$(cat "$work/dv/run/master.pid")" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 50); do
  "$lb" bench lmtp -addr 127.0.0.1:$lbport -n 1 -quiet >/dev/null 2>&1 &&
    "$lb" bench lmtp -addr 127.0.0.1:$dvport -n 1 -quiet >/dev/null 2>&1 && break
  sleep 0.2
done

# Scenarios: name, then the bench flags.
scenarios='10K-c1:-size 10K -c 1 -n 500
10K-c8:-size 10K -c 8 -n 2000
1M-c1:-size 1M -c 1 -n 50
1M-c4:-size 1M -c 4 -n 100'
for run in $(seq "$runs"); do
  echo "$scenarios" | while IFS=: read -r name flags; do
    for srv in letterbox dovecot; do
      port=$lbport; [ $srv = dovecot ] && port=$dvport
      # shellcheck disable=SC2086
      "$lb" bench lmtp -addr 127.0.0.1:$port -users 8 $flags -quiet -json "$work/$srv-$name-$run.json"
    done
  done
done
# A 50 MB message, with Letterbox's resident memory sampled.
for run in $(seq "$runs"); do
  "$lb" bench lmtp -addr 127.0.0.1:$lbport -size 50000000 -n 1 -pid "$lbpid" -quiet -json "$work/letterbox-50M-$run.json"
  "$lb" bench lmtp -addr 127.0.0.1:$dvport -size 50000000 -n 1 -quiet -json "$work/dovecot-50M-$run.json"
done

python3 - "$work" <<'PY'
import glob, json, statistics, sys
work = sys.argv[1]
def med(srv, name, key):
    vals = [json.load(open(f))[key] for f in sorted(glob.glob(f"{work}/{srv}-{name}-*.json"))]
    return statistics.median(vals), vals
print(f"{'scenario':10} {'Letterbox':>22} {'Dovecot':>22} {'ratio':>7}")
for name in ["10K-c1", "10K-c8", "1M-c1", "1M-c4", "50M"]:
    for key, unit in [("messages_per_s", "msg/s"), ("mb_per_s", "MB/s")]:
        l, lv = med("letterbox", name, key)
        d, dv = med("dovecot", name, key)
        print(f"{name:10} {l:14.2f} {unit:>7} {d:14.2f} {unit:>7} {l/d:6.2f}x   runs: {[round(v,1) for v in lv]} vs {[round(v,1) for v in dv]}")
    if name in ("10K-c8", "1M-c4"):
        for key in ["p50_ms", "p99_ms"]:
            l, _ = med("letterbox", name, key); d, _ = med("dovecot", name, key)
            print(f"{'':10} {key} {l:.1f} ms vs {d:.1f} ms")
g, gv = med("letterbox", "50M", "rss_growth_mb")
print(f"50 MB message: Letterbox resident memory growth, median {g:.1f} MB, runs {[round(v,1) for v in gv]}")
PY
echo "results: $work"
