#!/bin/sh
# Compares `letterbox bench pop3` against Letterbox and Dovecot's POP3 on
# this machine, on loopback, over the same mailboxes.
#
# Usage (from the repository root, as root: Dovecot drops to nobody):
#   testdata/pop3/bench-dovecot.sh [MESSAGES] [CLIENTS] [ROUNDS]
# defaults: 1000 messages per mailbox, 1 client, 9 rounds.
#
# Needs dovecot-pop3d, dovecot-imapd, python3, go. Each of the CLIENTS has
# its own mailbox (bench1@example.com ...), filled over IMAP with the same
# messages on both servers (bench_load.py); both store the password as
# {PLAIN}. Dovecot runs privately with a minimal configuration in a
# temporary directory (its defaults otherwise: maildir, passwd-file, a
# process per session). After one warm-up run each, the two servers take
# turns, one run per round, so that load from elsewhere on the machine hits
# both alike. Reported per run and as medians: wall time, the RETR-all time
# per client, and the server's CPU time (Letterbox's process; Dovecot's
# master and its children, reaped ones included), then the ratios.
# LB_BLOB_BACKEND=file stores Letterbox's message bodies in files instead of
# SQLite (storage.blob_backend). Ports: LB_PORT_BASE (default 27000) + 110/143 for Letterbox, + 1110/1143
# for Dovecot. For steadier numbers on a shared machine, run it with
# "nice -n -10".
set -eu
N=${1:-1000}; C=${2:-1}; R=${3:-9}
base=${LB_PORT_BASE:-27000}
lb_pop3=$((base + 110)); lb_imap=$((base + 143))
dc_pop3=$((base + 1110)); dc_imap=$((base + 1143))
pass=benchpass
here=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d /tmp/lb-bench-pop3.XXXXXX)
chmod 755 "$W"
lbpid=""
cleanup() {
  [ -n "$lbpid" ] && kill "$lbpid" 2>/dev/null || true
  [ -f "$W/dovecot/run/master.pid" ] && kill "$(cat "$W/dovecot/run/master.pid")" 2>/dev/null || true
  sleep 1
  rm -rf "$W"
}
trap cleanup EXIT INT TERM

echo "== building letterbox"
go build -o "$W/lb" ./cmd/letterbox

echo "== starting Letterbox (pop3 127.0.0.1:$lb_pop3)"
cat > "$W/letterbox.toml" <<CONF
data_dir = "$W/letterbox"
[storage]
blob_backend = "${LB_BLOB_BACKEND:-sql}"
[imap]
listen = "127.0.0.1:$lb_imap"
[pop3]
listen = "127.0.0.1:$lb_pop3"
[lmtp]
listen = ""
[managesieve]
listen = ""
[log]
level = "warn"
CONF
lb="$W/lb"
"$lb" domain add -config "$W/letterbox.toml" example.com
i=1; while [ "$i" -le "$C" ]; do
  echo "$pass" | "$lb" user add -config "$W/letterbox.toml" "bench$i@example.com"
  i=$((i + 1))
done
# Both servers store {PLAIN}: the POP3 engines are compared, not password
# hashes ("user add" writes argon2id, which Letterbox's auth cache would
# hide after the first login anyway).
python3 - "$W/letterbox/domains/example.com/letterbox.db" "{PLAIN}$pass" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE accounts SET password = ?", (sys.argv[2],))
db.commit()
PY
"$lb" serve -config "$W/letterbox.toml" 2>"$W/letterbox.log" &
lbpid=$!

echo "== starting Dovecot $(dovecot --version | cut -d' ' -f1) (pop3 127.0.0.1:$dc_pop3)"
D="$W/dovecot"
mkdir -p "$D/run" "$D/state" "$D/users"
chown nobody:nogroup "$D/users"
: > "$D/passwd"
i=1; while [ "$i" -le "$C" ]; do
  echo "bench$i@example.com:{PLAIN}$pass::::::" >> "$D/passwd"
  i=$((i + 1))
done
cat > "$D/dovecot.conf" <<CONF
base_dir = $D/run
state_dir = $D/state
instance_name = lb-bench-pop3
log_path = $D/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
first_valid_uid = 1
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $D/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$D/users/%u
}
service imap-login {
  inet_listener imap {
    port = $dc_imap
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = $dc_pop3
  }
  inet_listener pop3s {
    port = 0
  }
}
CONF
dovecot -c "$D/dovecot.conf"
# Both must be listening, and be the ones listening: ports in use elsewhere
# would send the load to someone else's server.
for port in $lb_pop3 $lb_imap $dc_pop3 $dc_imap; do
  python3 - "$port" <<'PY' || { echo "nothing listens on port $port"; cat "$W/letterbox.log" "$D/dovecot.log"; exit 1; }
import socket, sys, time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close(); sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY
done
kill -0 "$lbpid" || { echo "letterbox serve died:"; cat "$W/letterbox.log"; exit 1; }

echo "== filling $C mailbox(es) of $N messages on each server over IMAP"
i=1; while [ "$i" -le "$C" ]; do
  python3 "$here/bench_load.py" 127.0.0.1 "$lb_imap" "bench$i@example.com" "$pass" "$N"
  python3 "$here/bench_load.py" 127.0.0.1 "$dc_imap" "bench$i@example.com" "$pass" "$N"
  i=$((i + 1))
done
du -sh "$W/letterbox" "$D/users" | sed 's/^/   /'

# cpu PID: CPU seconds used so far by PID and its children, reaped or not
# (Dovecot runs a process per session; the master reaps them).
cpu() {
  python3 - "$1" <<'PY'
import os, sys
tick = os.sysconf("SC_CLK_TCK")
def stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[1]), sum(int(x) for x in fields[11:15])  # ppid, utime+stime+cutime+cstime
root = int(sys.argv[1])
total = 0
for d in os.listdir("/proc"):
    if d.isdigit():
        try:
            ppid, t = stat(int(d))
        except OSError:
            continue
        if int(d) == root or ppid == root:
            total += t
print(total / tick)
PY
}
bench() { # name port pid
  before=$(cpu "$3")
  "$lb" bench pop3 -addr "127.0.0.1:$2" -user 'bench%d@example.com' -password "$pass" -clients "$C" -json > "$W/run.json"
  sleep 0.3
  after=$(cpu "$3")
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r["server_cpu_s"]=float(sys.argv[3])-float(sys.argv[2]); print(json.dumps(r))' \
    "$W/run.json" "$before" "$after" | sed "s/^/$1 /" >> "$W/results"
}
dcpid=$(cat "$D/run/master.pid")
echo "== warm-up"
bench warmup-letterbox "$lb_pop3" "$lbpid"
bench warmup-dovecot "$dc_pop3" "$dcpid"
: > "$W/results"
r=1; while [ "$r" -le "$R" ]; do
  bench letterbox "$lb_pop3" "$lbpid"
  bench dovecot "$dc_pop3" "$dcpid"
  r=$((r + 1))
done
python3 - "$W/results" "$N" "$C" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, js = line.split(" ", 1)
    runs.setdefault(name, []).append(json.loads(js))
print(f"\n{sys.argv[2]} messages per mailbox, {sys.argv[3]} client(s), {len(runs['letterbox'])} rounds")
print(f"{'server':10} {'round':>5} {'wall s':>8} {'RETR all s':>11} {'login ms':>9} {'msg/s':>8} {'MB/s':>7} {'server CPU s':>13}")
for name, rs in runs.items():
    for i, r in enumerate(rs, 1):
        w = r["wall_ns"] / 1e9
        print(f"{name:10} {i:>5} {w:8.3f} {r['retr_median_ns']/1e9:11.3f} {r['login_median_ns']/1e6:9.1f} "
              f"{r['messages']/w:8.0f} {r['bytes']/w/1e6:7.1f} {r['server_cpu_s']:13.2f}")
med = {n: {k: statistics.median(r[k] for r in rs) for k in ("wall_ns", "retr_median_ns", "server_cpu_s")}
       for n, rs in runs.items()}
for n, m in med.items():
    r0 = runs[n][0]
    w = m["wall_ns"] / 1e9
    print(f"median {n:10} wall {w:.3f}s, RETR all {m['retr_median_ns']/1e9:.3f}s, {r0['messages']/w:.0f} msg/s, "
          f"{r0['bytes']/w/1e6:.1f} MB/s, server CPU {m['server_cpu_s']:.2f}s")
lb, dc = med["letterbox"], med["dovecot"]
print("Dovecot/Letterbox ratios (above 1: Letterbox faster):")
print(f"  wall {dc['wall_ns']/lb['wall_ns']:.2f}, RETR all {dc['retr_median_ns']/lb['retr_median_ns']:.2f}, "
      f"server CPU {dc['server_cpu_s']/max(lb['server_cpu_s'], 0.005):.2f}")
PY
