#!/usr/bin/env bash
# Daemon benchmark (issue 4): real 'plein serve' processes on 127.0.0.1.
#
#   idle     RSS of an idle daemon (a site with a schedule, a listener,
#            no peers) after it settled, against the RSS of the sqlite3
#            shell holding the same replica open. Goal: under 16 MiB.
#   tcp      COLS column changes (visits of 4 columns) sealed at site A,
#            synced by B's daemon from A's daemon over loopback: the time
#            until B holds them all, against 'git clone --mirror --no-local'
#            of A's log.git in the same run; bytes on the wire against
#            the size of that clone's pack (the compressed log); peak RSS
#            (VmHWM) of both daemons. Goals: wire <= 1.1x, RSS < 64 MiB.
#   nochange a sync where nothing changed: bytes each way and round trips,
#            from B's daemon log. Goal: 1 round trip, <= 512 bytes.
#
# Every figure is the median of RUNS runs; ratios are medians of per-run
# ratios. Usage: bench_serve [COLS [RUNS]]   (defaults 1000000, 3)
# Lines "RESULT name value" are for machines.
set -uo pipefail
COLS=${1:-1000000}
RUNS=${2:-3}
PLEIN=${PLEIN:-$(cd "$(dirname "$0")/.." && pwd)/plein}
[ -x "$PLEIN" ] || { echo "bench/serve: no plein binary at $PLEIN (set PLEIN)" >&2; exit 2; }
BASE=$(mktemp -d "${TMPDIR:-/tmp}/plein-bench-serve.XXXXXX")
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$BASE"' EXIT
cd "$BASE" || exit 2

die() { echo "bench/serve: $*" >&2; exit 2; }
now() { date +%s.%N; }
kib() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
wait_until() { # bounded: a broken daemon fails the benchmark, never hangs it
	local i
	for ((i = 0; i < 6000; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}
has() { grep -qE -- "$2" "$1"; }
port_of() { sed -n 's/.*listening for peers on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$1" | tail -1; }

serve() { # DIR LOG ARGS... -> pid in $SPID
	local dir=$1 log=$2; shift 2
	"$PLEIN" -C "$dir" serve "$@" 2>"$log" &
	SPID=$!
	PIDS+=("$SPID")
}
stop() { kill -TERM "$1"; wait "$1" || die "a daemon did not stop cleanly (exit $?)"; }

# ---- idle ----
idle_ratio=() idle_mib=()
for run in $(seq "$RUNS"); do
	d=idle$run
	"$PLEIN" init "$d" --new-network "Bench" --name idle >/dev/null || die "init"
	L=$("$PLEIN" -C "$d" location add --name Centrum --kind branch)
	serve "$d" "$d.log" --listen 127.0.0.1:0
	dpid=$SPID
	wait_until has "$d.log" "plein serve: site" || die "the idle daemon did not start"
	sleep 3 # settle: a few ticks
	rss=$(kib "$dpid" VmRSS)
	sqlite3 "$d/plein.db" "SELECT count(*) FROM location; SELECT sleep(0)" >/dev/null 2>&1
	# the baseline: a sqlite3 shell holding the same replica open, idle
	mkfifo "$d.fifo"
	sqlite3 "$d/plein.db" <"$d.fifo" >/dev/null &
	spid=$!
	exec 9>"$d.fifo"
	echo "SELECT count(*) FROM location;" >&9
	sleep 1
	base=$(kib "$spid" VmRSS)
	exec 9>&-
	wait "$spid"
	stop "$dpid"
	idle_mib+=("$(echo "$rss" | awk '{ printf "%.2f", $1 / 1024 }')")
	idle_ratio+=("$(awk -v a="$rss" -v b="$base" 'BEGIN { printf "%.2f", a / b }')")
done
m=$(printf '%s\n' "${idle_mib[@]}" | median)
r=$(printf '%s\n' "${idle_ratio[@]}" | median)
echo "idle daemon RSS: $m MiB (goal < 16), ${r}x the RSS of an idle sqlite3 shell on the same replica"
echo "RESULT idle_rss_mib $m"
echo "RESULT idle_rss_vs_sqlite3 $r"

# ---- tcp: COLS column changes ----
ROWS=$((COLS / 4))
CHUNK=50000
t_ratio=() t_plein=() t_clone=() w_ratio=() wire=() pack=() hwm_a=() hwm_b=() nc_in=() nc_out=() nc_rt=()
for run in $(seq "$RUNS"); do
	A=a$run B=b$run
	"$PLEIN" init "$A" --new-network "Bench" --name a >/dev/null || die "init a"
	"$PLEIN" -C "$A" card >"card$run"
	"$PLEIN" init "$B" --card "card$run" --name b --role branch >/dev/null || die "init b"
	"$PLEIN" -C "$A" admit "$("$PLEIN" -C "$B" id)" --name b --role branch --key "$("$PLEIN" -C "$B" id --key)" >/dev/null ||
		die "admit"
	L=$("$PLEIN" -C "$A" location add --name Centrum --kind branch)
	# ROWS visits, CHUNK per transaction, each sealed as a batch.
	for ((from = 0; from < ROWS; from += CHUNK)); do
		n=$((ROWS - from < CHUNK ? ROWS - from : CHUNK))
		sqlite3 "$A/plein.db" "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < $n - 1)
			INSERT INTO visit(id, location_id, at, daypart, channel)
			SELECT printf('01JBENCH%018d', $from + i), '$L', strftime('%Y-%m-%dT%H:%M:%SZ', 1764000000 + ($from + i) * 60, 'unixepoch'),
			       CASE i % 3 WHEN 0 THEN 'ochtend' WHEN 1 THEN 'middag' ELSE 'avond' END,
			       CASE i % 3 WHEN 0 THEN 'walk_in' WHEN 1 THEN 'appointment' ELSE 'phone' END FROM k" || die "insert"
		"$PLEIN" -C "$A" status >/dev/null || die "seal"
	done
	# Baseline, same run: git clone of the same log, as a pack.
	t0=$(now)
	git clone -q --mirror --no-local "$A/log.git" "clone$run.git" || die "git clone"
	t1=$(now)
	pk=$(du -cb "clone$run.git"/objects/pack/*.pack | tail -1 | cut -f1)

	serve "$A" "$A.log" --listen 127.0.0.1:0 --interval 3600
	apid=$SPID
	wait_until has "$A.log" "listening for peers" || die "daemon a did not start"
	"$PLEIN" -C "$B" peer add a "tcp://127.0.0.1:$(port_of "$A.log")"
	t2=$(now)
	serve "$B" "$B.log" --interval 3600 --verbose
	bpid=$SPID
	wait_until has "$B.log" "peer a: synced: " || die "b did not sync: $(tail -3 "$B.log")"
	t3=$(now)
	[ "$(sqlite3 "$B/plein.db" "SELECT count(*) FROM visit")" = "$ROWS" ] || die "b holds $(sqlite3 "$B/plein.db" "SELECT count(*) FROM visit") of $ROWS visits"
	[ "$("$PLEIN" -C "$A" digest)" = "$("$PLEIN" -C "$B" digest)" ] || die "the digests differ"
	bytes=$(sed -n 's/.*peer a: synced: .*(\([0-9]*\) bytes in, .*/\1/p' "$B.log" | head -1)
	ha=$(kib "$apid" VmHWM) hb=$(kib "$bpid" VmHWM)

	# No change: one more sync of B's daemon with A (SIGHUP-free: a write
	# elsewhere would not do; the interval is an hour, so restart B).
	stop "$bpid"
	: >"$B.log"
	serve "$B" "$B.log" --interval 3600 --verbose
	bpid=$SPID
	wait_until has "$B.log" "peer a: in step" || die "no in-step sync: $(tail -3 "$B.log")"
	line=$(grep "peer a: in step" "$B.log" | head -1)
	nc_in+=("$(echo "$line" | sed -n 's/.*(\([0-9]*\) bytes in.*/\1/p')")
	nc_out+=("$(echo "$line" | sed -n 's/.* \([0-9]*\) out, .*/\1/p')")
	nc_rt+=("$(echo "$line" | sed -n 's/.* \([0-9]*\) round trip.*/\1/p')")
	stop "$bpid"
	stop "$apid"

	tp=$(awk -v a="$t2" -v b="$t3" 'BEGIN { print b - a }')
	tc=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
	t_plein+=("$tp") t_clone+=("$tc")
	t_ratio+=("$(awk -v a="$tp" -v b="$tc" 'BEGIN { printf "%.2f", a / b }')")
	wire+=("$bytes") pack+=("$pk")
	w_ratio+=("$(awk -v a="$bytes" -v b="$pk" 'BEGIN { printf "%.3f", a / b }')")
	hwm_a+=("$(echo "$ha" | awk '{ printf "%.1f", $1 / 1024 }')") hwm_b+=("$(echo "$hb" | awk '{ printf "%.1f", $1 / 1024 }')")
	rm -rf "$A" "$B" "clone$run.git"
done
med() { printf '%s\n' "$@" | median; }
echo "$COLS column changes ($ROWS visits, $(((ROWS + CHUNK - 1) / CHUNK)) batches) from one daemon to another over loopback:"
echo "  time until the receiver holds them all: $(med "${t_plein[@]}") s; git clone --mirror --no-local of the same log.git: $(med "${t_clone[@]}") s; ratio $(med "${t_ratio[@]}")x"
echo "  bytes on the wire: $(med "${wire[@]}"); the log as a git pack: $(med "${pack[@]}"); ratio $(med "${w_ratio[@]}")x (goal <= 1.1)"
echo "  peak RSS: sender $(med "${hwm_a[@]}") MiB, receiver $(med "${hwm_b[@]}") MiB (goal < 64)"
echo "a sync where nothing changed: $(med "${nc_in[@]}") bytes in, $(med "${nc_out[@]}") out, $(med "${nc_rt[@]}") round trip(s) (goal: 1, <= 512 bytes each way)"
echo "RESULT tcp_time_vs_git_clone $(med "${t_ratio[@]}")"
echo "RESULT tcp_wire_vs_pack $(med "${w_ratio[@]}")"
echo "RESULT tcp_peak_rss_sender_mib $(med "${hwm_a[@]}")"
echo "RESULT tcp_peak_rss_receiver_mib $(med "${hwm_b[@]}")"
echo "RESULT nochange_bytes_in $(med "${nc_in[@]}")"
echo "RESULT nochange_bytes_out $(med "${nc_out[@]}")"
echo "RESULT nochange_round_trips $(med "${nc_rt[@]}")"
