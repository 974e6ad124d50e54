#!/usr/bin/env bash
# bench-imap-vs-dovecot.sh: measure Letterbox and Dovecot 2.3 with the same
# load generator ("letterbox bench imap"), in the same run, on the same machine.
#
# Sets up, in a private work directory and on loopback high ports:
#   - Letterbox ("letterbox serve" with its own config file, SQLite), and
#   - Dovecot from Debian's dovecot-imapd (its own master, passwd-file users,
#     maildir; no system service is touched),
# with the same users, passwords and messages, and runs against each:
#   1. fetch: FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)
#      on a mailbox of $FETCH_MESSAGES messages (first and later fetches);
#   2. mixed: imaptest-style LOGIN/SELECT/FETCH/STORE/APPEND/EXPUNGE/LOGOUT
#      with $MIXED_CLIENTS clients (10 and 50 by default);
#   3. idle: $IDLE_CONNS connections in IDLE (up to 10,000), server memory at peak.
# Every measurement is repeated $RUNS times, alternating the two servers, and the
# summary gives medians and Letterbox/Dovecot ratios.
#
# Usage: scripts/bench-imap-vs-dovecot.sh            (from the repository root)
# Settings (environment):
#   RUNS=3                 repetitions of each measurement
#   MIXED_CLIENTS="10 50"  client counts for the mixed scenario
#   MIXED_DURATION=20s     length of one mixed run
#   FETCH_MESSAGES=10000   size of the FETCH mailbox
#   FETCH_DURATION=15s     length of one fetch run (after the first FETCH)
#   IDLE_CONNS=10000       connections in IDLE (capped by ulimit -n)
#   IDLE_USERS=100         users the idle connections are spread over
#   IDLE_DURATION=30s      how long the idle connections are held
#   SCENARIOS="fetch mixed idle"
#   SCHEME=PLAIN           password scheme stored for both servers: PLAIN (the
#                          engines are compared, not the password hash) or
#                          ARGON2ID (the hash "letterbox user add" writes; Letterbox
#                          caches verified logins, Dovecot re-verifies every LOGIN)
#   DOVECOT_IMAP_CLIENT_LIMIT=1   Dovecot's imap client_limit (1 is its default:
#                          one process per IMAP connection)
#   DOVECOT_IMAP_SERVICE_COUNT=1  connections an imap process serves before it exits
#                          (1 is Dovecot's default; 0 reuses processes without end)
#   DOVECOT_IMAP_MIN_AVAIL=0      imap processes kept forked in advance
#   DOVECOT_HIBERNATE=     e.g. 5s: Dovecot's imap_hibernate_timeout for the idle run
#   WORK=dir               keep the work directory (default: a new temp dir, removed)
#   LB_PORT=21143 DC_PORT=21144
#   LETTERBOX_BIN=path    use this letterbox binary instead of building one
#   PERF=1                 also record "perf record -g" of Letterbox during the
#                          fetch and mixed runs (needs perf)
set -euo pipefail

RUNS=${RUNS:-3}
MIXED_CLIENTS=${MIXED_CLIENTS:-"10 50"}
MIXED_DURATION=${MIXED_DURATION:-20s}
FETCH_MESSAGES=${FETCH_MESSAGES:-10000}
FETCH_DURATION=${FETCH_DURATION:-15s}
IDLE_CONNS=${IDLE_CONNS:-10000}
IDLE_USERS=${IDLE_USERS:-100}
IDLE_DURATION=${IDLE_DURATION:-30s}
SCENARIOS=${SCENARIOS-"fetch mixed idle"}
SCHEME=${SCHEME:-PLAIN}
DOVECOT_IMAP_CLIENT_LIMIT=${DOVECOT_IMAP_CLIENT_LIMIT:-1}
DOVECOT_IMAP_SERVICE_COUNT=${DOVECOT_IMAP_SERVICE_COUNT:-1}
DOVECOT_IMAP_MIN_AVAIL=${DOVECOT_IMAP_MIN_AVAIL:-0}
DOVECOT_HIBERNATE=${DOVECOT_HIBERNATE:-}
LB_PORT=${LB_PORT:-21143}
DC_PORT=${DC_PORT:-21144}
PERF=${PERF:-}
PASSWORD=benchpw
MIXED_USERS=50 # u0..u49: the mixed runs use u0..u(clients-1)
DOMAIN=example.com

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

if [ -n "${WORK:-}" ]; then
	keep_work=1
	mkdir -p "$WORK"
else
	keep_work=
	WORK=$(mktemp -d /tmp/bench-imap.XXXXXX)
fi
chmod 755 "$WORK"
LB=$WORK/letterbox
RES=$WORK/results
mkdir -p "$RES"
lb_pid= dc_started= inotify_old=

log() { printf '== %s\n' "$*" >&2; }

cleanup() {
	set +e
	if [ -n "$lb_pid" ]; then kill "$lb_pid" 2>/dev/null; wait "$lb_pid" 2>/dev/null; fi
	if [ -n "$dc_started" ] && [ -f "$WORK/dc/run/master.pid" ]; then
		kill "$(cat "$WORK/dc/run/master.pid")" 2>/dev/null
		for _ in $(seq 50); do [ -f "$WORK/dc/run/master.pid" ] || break; sleep 0.2; done
	fi
	if [ -n "$inotify_old" ]; then sysctl -qw fs.inotify.max_user_instances="$inotify_old"; fi
	if [ -z "$keep_work" ]; then rm -rf "$WORK"; else log "work directory kept: $WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Machine limits ---------------------------------------------------------

ulimit -n "$(ulimit -Hn)"
fds=$(ulimit -n)
# The load generator holds one descriptor per connection and the server one
# more; they are separate processes, so each needs IDLE_CONNS plus some slack.
if [ "$IDLE_CONNS" -gt $((fds - 200)) ]; then
	IDLE_CONNS=$((fds - 200))
	log "ulimit -n is $fds: idle scenario capped at $IDLE_CONNS connections"
fi
# Dovecot watches mailboxes with inotify, one instance per imap process;
# past fs.inotify.max_user_instances (128 on Debian) it falls back to polling
# every 30 s. Raise it for the run (and restore it on exit) when we may.
if [ "$(id -u)" = 0 ] && [ -w /proc/sys/fs/inotify/max_user_instances ]; then
	cur=$(cat /proc/sys/fs/inotify/max_user_instances)
	if [ "$cur" -lt $((IDLE_CONNS + 1000)) ]; then
		inotify_old=$cur
		sysctl -qw fs.inotify.max_user_instances=$((IDLE_CONNS + 1000)) || inotify_old=
	fi
fi

# --- Build --------------------------------------------------------------------

if [ -n "${LETTERBOX_BIN:-}" ]; then
	cp "$LETTERBOX_BIN" "$LB"
else
	log "building letterbox"
	go build -o "$LB" ./cmd/letterbox
fi

# --- Letterbox ----------------------------------------------------------------

users() { # all user names, one a line
	for i in $(seq 0 $((MIXED_USERS - 1))); do echo "u$i@$DOMAIN"; done
	for i in $(seq 0 $((IDLE_USERS - 1))); do echo "idle$i@$DOMAIN"; done
	echo "fetch@$DOMAIN"
}

setup_letterbox() {
	log "setting up Letterbox in $WORK/lb"
	mkdir -p "$WORK/lb/data"
	cat >"$WORK/lb/letterbox.toml" <<-CONF
	data_dir = "$WORK/lb/data"
	[imap]
	listen = "127.0.0.1:$LB_PORT"
	listen_tls = ""
	[pop3]
	listen = ""
	[lmtp]
	listen = ""
	[managesieve]
	listen = ""
	[auth]
	cache_size = 4096
	[limits]
	max_connections_per_ip = 0
	max_connections_per_user = 0
	[log]
	level = "warn"
	CONF
	local cfg=(-config "$WORK/lb/letterbox.toml")
	"$LB" domain add "${cfg[@]}" "$DOMAIN"
	# "user add" hashes with argon2id (64 MiB, 3 passes): make the hash once
	# and copy it, both to the other Letterbox accounts and to Dovecot.
	echo "$PASSWORD" | "$LB" user add "${cfg[@]}" "u0@$DOMAIN" >/dev/null
	db=$WORK/lb/data/domains/$DOMAIN/letterbox.db
	argon=$(sqlite3 "$db" "SELECT password FROM accounts WHERE name='u0@$DOMAIN'")
	case $SCHEME in
	PLAIN) hash="{PLAIN}$PASSWORD" ;;
	ARGON2ID) hash=$argon ;;
	*) echo "SCHEME must be PLAIN or ARGON2ID" >&2; exit 2 ;;
	esac
	users | tail -n +2 | while read -r u; do
		echo "$PASSWORD" | "$LB" user add "${cfg[@]}" "$u" >/dev/null 2>&1 ||
			{ echo "user add $u failed" >&2; exit 1; }
	done
	# Every account gets the same stored hash; written directly because the
	# CLI always makes a new argon2id hash (slow, and not what SCHEME asks).
	sqlite3 "$db" "UPDATE accounts SET password='$hash'"
}

start_letterbox() {
	"$LB" serve -config "$WORK/lb/letterbox.toml" >"$WORK/lb/serve.log" 2>&1 &
	lb_pid=$!
	wait_port "$LB_PORT" || { cat "$WORK/lb/serve.log" >&2; exit 1; }
}

# --- Dovecot ------------------------------------------------------------------

setup_dovecot() {
	log "setting up Dovecot in $WORK/dc"
	command -v dovecot >/dev/null || {
		echo "dovecot is not installed: apt-get update && apt-get install -y dovecot-imapd" >&2
		exit 1
	}
	local d=$WORK/dc
	mkdir -p "$d/run" "$d/state" "$d/mail"
	chown nobody:nogroup "$d/mail"
	: >"$d/passwd"
	users | while read -r u; do
		local n=${u%@*}
		printf '%s:%s:65534:65534::%s::\n' "$u" "$hash" "$d/mail/$n" >>"$d/passwd"
	done
	chmod 644 "$d/passwd"
	local hib=
	if [ -n "$DOVECOT_HIBERNATE" ]; then
		# IDLE connections move to the imap-hibernate process after this
		# long; the sockets between it and the imap processes need these
		# permissions (Dovecot's documentation of imap_hibernate_timeout).
		hib="imap_hibernate_timeout = $DOVECOT_HIBERNATE
	service imap-hibernate {
	  unix_listener imap-hibernate {
	    mode = 0660
	    group = dovecot
	  }
	}
	service imap {
	  extra_groups = dovecot
	  unix_listener imap-master {
	    user = dovecot
	  }
	}"
	fi
	cat >"$d/dovecot.conf" <<-CONF
	# Private Dovecot for benchmarks: loopback, high port, no system service.
	base_dir = $d/run
	state_dir = $d/state
	instance_name = bench-imap-dovecot
	log_path = $d/dovecot.log
	protocols = imap
	listen = 127.0.0.1
	ssl = no
	disable_plaintext_auth = no
	auth_mechanisms = plain login
	default_internal_user = dovecot
	default_internal_group = dovecot
	default_login_user = dovenull
	first_valid_uid = 1
	mail_location = maildir:~/Maildir
	# the same limits as the Letterbox side: none per IP or user
	protocol imap {
	  mail_max_userip_connections = 0
	}
	auth_cache_size = 10M
	auth_cache_ttl = 1 hour
	passdb {
	  driver = passwd-file
	  args = username_format=%u $d/passwd
	}
	userdb {
	  driver = passwd-file
	  args = username_format=%u $d/passwd
	}
	# "High-performance" login processes (service_count = 0), as Dovecot's
	# documentation recommends for many connections; the default
	# (service_count = 1) forks one login process per connection.
	service imap-login {
	  inet_listener imap {
	    address = 127.0.0.1
	    port = $DC_PORT
	  }
	  inet_listener imaps {
	    port = 0
	  }
	  service_count = 0
	  process_min_avail = 2
	  process_limit = 4
	  client_limit = $((IDLE_CONNS + 1000))
	  vsz_limit = 2G
	}
	service imap-urlauth-login {
	  process_limit = 1
	}
	service imap {
	  process_limit = $((IDLE_CONNS + 1000))
	  client_limit = $DOVECOT_IMAP_CLIENT_LIMIT
	  service_count = $DOVECOT_IMAP_SERVICE_COUNT
	  process_min_avail = $DOVECOT_IMAP_MIN_AVAIL
	}
	default_process_limit = $((IDLE_CONNS + 1000))
	default_client_limit = $((IDLE_CONNS + 2000))
	$hib
	CONF
	chmod 644 "$d/dovecot.conf"
}

start_dovecot() {
	dovecot -c "$WORK/dc/dovecot.conf"
	dc_started=1
	wait_port "$DC_PORT" || { cat "$WORK/dc/dovecot.log" >&2; exit 1; }
	for _ in $(seq 50); do [ -s "$WORK/dc/run/master.pid" ] && break; sleep 0.1; done
}

dovecot_pid() { cat "$WORK/dc/run/master.pid"; }

wait_port() {
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "nothing listens on port $1" >&2
	return 1
}

# --- Runs ---------------------------------------------------------------------

# bench NAME SERVER ARGS...: one run of the load generator; the table goes to
# the terminal and to RES/NAME.SERVER.N.txt, the numbers to the .json beside it.
bench() {
	local name=$1 server=$2
	shift 2
	local port=$LB_PORT
	[ "$server" = dovecot ] && port=$DC_PORT
	local n=1
	while [ -e "$RES/$name.$server.$n.json" ]; do n=$((n + 1)); done
	local out=$RES/$name.$server.$n
	local cmd=("$LB" bench imap -addr "127.0.0.1:$port" -password "$PASSWORD" -quiet -json "$out.json" "$@")
	log "$server: letterbox bench imap -addr 127.0.0.1:$port $*"
	echo "${cmd[*]}" >"$out.cmd"
	"${cmd[@]}" 2>&1 | tee "$out.txt" || log "$server $name run $n failed (see $out.txt)"
}

perf_start() { # perf_start NAME: sample the Letterbox server while NAME runs
	perf_pid=
	if [ -n "$PERF" ] && command -v perf >/dev/null; then
		perf record -F 499 -g -p "$lb_pid" -o "$RES/perf.$1.data" >/dev/null 2>&1 &
		perf_pid=$!
		sleep 0.5
	fi
}
perf_stop() {
	if [ -n "${perf_pid:-}" ]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
}

setup_letterbox
setup_dovecot
start_letterbox
start_dovecot
log "Letterbox pid $lb_pid on 127.0.0.1:$LB_PORT; Dovecot master pid $(dovecot_pid) on 127.0.0.1:$DC_PORT"
log "machine: $(nproc) CPUs, $(free -m | awk '/^Mem:/{print $2}') MB RAM; scheme $SCHEME; results in $RES"

for sc in $SCENARIOS; do
	case $sc in
	fetch)
		# Seed both with the same messages first (not timed), then measure.
		for s in letterbox dovecot; do
			bench seed-fetch "$s" -scenario fetch -user "fetch@$DOMAIN" -messages "$FETCH_MESSAGES" -seed-only >/dev/null
		done
		for r in $(seq "$RUNS"); do
			for s in letterbox dovecot; do
				[ "$s" = letterbox ] && perf_start "fetch.$r"
				bench fetch "$s" -scenario fetch -user "fetch@$DOMAIN" -messages "$FETCH_MESSAGES" -duration "$FETCH_DURATION"
				[ "$s" = letterbox ] && perf_stop
			done
		done
		;;
	mixed)
		for c in $MIXED_CLIENTS; do
			for r in $(seq "$RUNS"); do
				for s in letterbox dovecot; do
					[ "$s" = letterbox ] && perf_start "mixed$c.$r"
					bench "mixed$c" "$s" -scenario mixed -clients "$c" -user "u%d@$DOMAIN" -users "$c" -messages 200 -duration "$MIXED_DURATION"
					[ "$s" = letterbox ] && perf_stop
				done
			done
		done
		;;
	idle)
		for r in $(seq "$RUNS"); do
			for s in letterbox dovecot; do
				pid=$lb_pid
				[ "$s" = dovecot ] && pid=$(dovecot_pid)
				bench idle "$s" -scenario idle -clients "$IDLE_CONNS" -user "idle%d@$DOMAIN" -users "$IDLE_USERS" \
					-duration "$IDLE_DURATION" -wake 3 -pid "$pid" -messages 20
				sleep 5 # let the server wind the connections down
			done
		done
		;;
	*)
		echo "unknown scenario $sc" >&2
		exit 2
		;;
	esac
done

# --- Summary ------------------------------------------------------------------

python3 - "$RES" <<'PY'
import glob, json, os, statistics, sys
res = sys.argv[1]
runs = {}
for p in sorted(glob.glob(os.path.join(res, "*.json"))):
    name, server, n, _ = os.path.basename(p).rsplit(".", 3)
    if name.startswith("seed"):
        continue
    runs.setdefault(name, {}).setdefault(server, []).append(json.load(open(p)))

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None

rows = []  # (what, letterbox, dovecot, unit, better)
for name in sorted(runs):
    r = runs[name]
    def col(f):
        return [med([f(x) for x in r.get(s, [])]) for s in ("letterbox", "dovecot")]
    if name == "fetch":
        msgs = r["letterbox"][0]["fetch"]["messages"]
        first = [r[s][0]["fetch"]["first_ms"] if r.get(s) else None for s in ("letterbox", "dovecot")]
        rows.append((f"fetch: first FETCH 1:* after seeding ({msgs} msgs)", *first, "ms", "lower"))
        rows.append(("fetch: first FETCH 1:* of a session, median", *col(lambda x: x["fetch"]["first_ms"]), "ms", "lower"))
        rows.append(("fetch: later FETCH 1:*, median", *col(lambda x: x["fetch"]["later_median_ms"]), "ms", "lower"))
    elif name.startswith("mixed"):
        rows.append((f"{name}: all commands", *col(lambda x: x["total_ops_per_s"]), "ops/s", "higher"))
        rows.append((f"{name}: full cycles", *col(lambda x: x["cycles_per_s"]), "cycles/s", "higher"))
        cmds = [c["name"] for c in r["letterbox"][0]["commands"]]
        for c in cmds:
            def p50(x, c=c):
                for y in x["commands"]:
                    if y["name"] == c:
                        return y["p50_ms"]
            def p99(x, c=c):
                for y in x["commands"]:
                    if y["name"] == c:
                        return y["p99_ms"]
            rows.append((f"{name}: {c} p50", *col(p50), "ms", "lower"))
            rows.append((f"{name}: {c} p99", *col(p99), "ms", "lower"))
        rows.append((f"{name}: errors", *col(lambda x: x["total_errors"]), "", "lower"))
    elif name == "idle":
        rows.append(("idle: connections held", *col(lambda x: x["idle"]["held"]), "", "higher"))
        rows.append(("idle: server RSS at peak", *col(lambda x: x["idle"]["rss_peak_kb"] / 1024), "MB", "lower"))
        rows.append(("idle: server PSS at peak", *col(lambda x: x["idle"]["pss_peak_kb"] / 1024), "MB", "lower"))
        rows.append(("idle: server PSS at the end of the hold", *col(lambda x: x["idle"].get("pss_end_kb", 0) / 1024), "MB", "lower"))
        rows.append(("idle: RSS per connection", *col(lambda x: x["idle"]["kb_per_conn"]), "KB", "lower"))
        rows.append(("idle: setup time", *col(lambda x: x["idle"]["setup_seconds"]), "s", "lower"))
        rows.append(("idle: wake-up p50", *col(lambda x: x["idle"]["wake_p50_ms"]), "ms", "lower"))
        rows.append(("idle: wake-up max", *col(lambda x: x["idle"]["wake_max_ms"]), "ms", "lower"))
        rows.append(("idle: woke / expected", *col(lambda x: x["idle"]["wake_received"] / max(1, x["idle"]["wake_expected"])), "", "higher"))

nruns = max((len(v) for r in runs.values() for v in r.values()), default=0)
print(f"\nSummary: medians of {nruns} run(s); ratio = Letterbox / Dovecot")
w = max((len(x[0]) for x in rows), default=10)
print(f"{'':{w}}  {'Letterbox':>10}  {'Dovecot':>10}  {'ratio':>6}  unit")
for what, a, b, unit, better in rows:
    fa = "-" if a is None else f"{a:10.2f}"
    fb = "-" if b is None else f"{b:10.2f}"
    ratio = f"{a / b:6.2f}" if a is not None and b else "     -"
    print(f"{what:{w}}  {fa:>10}  {fb:>10}  {ratio}  {unit} ({better} is better)" if unit else f"{what:{w}}  {fa:>10}  {fb:>10}  {ratio}")
PY
