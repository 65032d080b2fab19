#!/usr/bin/env bash
# HTTP benchmark (issue 6): wrk against GET /api/v1/schedule of a real
# 'plein serve --http' on 127.0.0.1, idle and while syncs run into the
# served replica, against a baseline from the same server in the same
# run: GET /api/v1, a static reply behind the same token check.
#
#   PLEIN=build-bench/plein bench/http.sh [RUNS [SECONDS]]   (defaults 3, 5)
#
# The site has 2 locations and 30 weekly rules (a busy plein); the
# schedule is this week's, every location: ~30 occurrences, ~20 KB of
# JSON. The sync load: a second site writes 2,000 visits at a time
# (sqlite3, captured like any writer), seals and syncs them through a
# bare repository, and the served site syncs them in with 'plein sync',
# over and over. Printed are medians over RUNS; ratios are medians of
# per-run ratios. Lines "RESULT name value" are for machines.
set -uo pipefail
PLEIN=${PLEIN:?set PLEIN to a plein binary (tools/bench does)}
PLEIN=$(cd "$(dirname "$PLEIN")" && pwd)/$(basename "$PLEIN")
runs=${1:-3}
secs=${2:-5}
command -v wrk >/dev/null || { echo "bench/http.sh: needs wrk (apt-get install wrk)" >&2; exit 2; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/plein-bench-http.XXXXXX")
serve_pid=""; load_pid=""
cleanup() {
	[ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null
	[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
cd "$TMP" || exit 2
p() { "$PLEIN" "$@"; }

# --- the site: a week of a busy plein ---
p init a --new-network "Bench" --name a >/dev/null
L1=$(p -C a location add --name "Centrum" --kind branch)
L2=$(p -C a location add --name "Wijkcentrum Noord" --kind community)
themes=(werk geld taal digitaal overheid gezondheid wonen juridisch)
days=(MO TU WE TH FR)
for i in $(seq 0 29); do
	th=${themes[$((i % 8))]}
	P=$(p -C a partner add --name "Partner $i")
	O=$(p -C a offering add --partner "$P" --theme "$th" --kind spreekuur --title "Spreekuur $th $i")
	h=$((9 + i % 8))
	p -C a rule add --offering "$O" --location "$([ $((i % 3)) = 0 ] && echo "$L2" || echo "$L1")" \
		--rrule "FREQ=WEEKLY;BYDAY=${days[$((i % 5))]}" --start "$(printf '%02d:00' $h)" --end "$(printf '%02d:30' $h)" \
		--from 2026-01-01 --room "Zaal $((i % 4))" >/dev/null
done
p -C a card > card.txt
p init b --card card.txt --name b --role branch >/dev/null
p -C a admit "$(p -C b id)" --name b --role branch --key "$(p -C b id --key)" >/dev/null
LB=$(p -C a location list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
p -C a sync stick.git >/dev/null 2>&1; p -C b sync stick.git >/dev/null 2>&1

# --- the server ---
"$PLEIN" -C a serve --http 127.0.0.1:0 --interval 3600 2> serve.log &
serve_pid=$!
for _ in $(seq 300); do grep -q 'HTTP on http://' serve.log && break; sleep 0.1; done
ADDR=$(sed -n 's|.*HTTP on http://\([^/]*\)/.*|\1|p' serve.log | tail -1)
TOK=$(sed -n 's/^[[:space:]]*token[[:space:]]*=[[:space:]]*//p' a/plein.conf)
[ -n "$ADDR" ] || { echo "bench/http.sh: plein serve did not start: $(cat serve.log)" >&2; exit 2; }
n=$(curl -s -H "Authorization: Bearer $TOK" "http://$ADDR/api/v1/schedule" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
bytes=$(curl -s -H "Authorization: Bearer $TOK" "http://$ADDR/api/v1/schedule" | wc -c)
echo "site: 30 rules at 2 locations; GET /api/v1/schedule = $n occurrences, $bytes bytes"

# The sync load, until killed: b writes, seals and pushes; a pulls.
sync_load() {
	local k=$((r * 100000))
	while :; do
		sqlite3 b/plein.db "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
			INSERT INTO visit(id, location_id, at, daypart, channel)
			SELECT printf('BENCH%08d%013d', $k, i), '$LB', '2026-11-24T09:30:00Z', 'ochtend', 'walk_in' FROM n;"
		"$PLEIN" -C b sync stick.git >/dev/null 2>&1
		"$PLEIN" -C a sync stick.git >/dev/null 2>&1
		echo x >> syncs.txt
		k=$((k + 1))
	done
}

# The reply cache (src/http/cache.c, 16 entries) answers a repeated
# schedule; this asks for 64 different weeks in turn, so each request
# builds its schedule anew: the cost of a miss.
cat > uncached.lua <<'LUA'
local i = 0
request = function()
  i = (i + 1) % 64
  local from = 1767571200 + i * 7 * 86400 -- Monday 2026-01-05, UTC
  return wrk.format(nil, "/api/v1/schedule?from=" .. os.date("!%Y-%m-%d", from) ..
    "&to=" .. os.date("!%Y-%m-%d", from + 6 * 86400))
end
LUA

# wrk PATH [LUA]: prints "req/s p99_ms".
bench() {
	wrk -t1 -c16 -d"${secs}s" --latency ${2:+-s "$2"} -H "Authorization: Bearer $TOK" "http://$ADDR$1" > wrk.out 2>&1
	python3 - wrk.out <<'PY'
import re, sys
t = open(sys.argv[1]).read()
rps = float(re.search(r'Requests/sec:\s+([\d.]+)', t).group(1))
v, unit = re.search(r'\s99%\s+([\d.]+)(us|ms|s)\b', t).groups()
p99 = float(v) * {'us': 0.001, 'ms': 1, 's': 1000}[unit]
bad = re.search(r'Non-2xx or 3xx responses: (\d+)', t)
if bad or 'Socket errors' in t:
    sys.exit('wrk saw errors:\n' + t)
print(f"{rps:.0f} {p99:.2f}")
PY
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

: > base.txt; : > idle.txt; : > load.txt; : > miss.txt
for r in $(seq "$runs"); do
	read -r b_rps b_p99 <<< "$(bench /api/v1)" || exit 2
	read -r i_rps i_p99 <<< "$(bench /api/v1/schedule)" || exit 2
	read -r m_rps m_p99 <<< "$(bench /api/v1/schedule uncached.lua)" || exit 2
	: > syncs.txt
	sync_load & load_pid=$!
	sleep 1
	read -r l_rps l_p99 <<< "$(bench /api/v1/schedule)" || exit 2
	kill "$load_pid"; wait "$load_pid" 2>/dev/null; load_pid=""
	nsync=$(wc -l < syncs.txt)
	echo "run $r: static $b_rps req/s p99 $b_p99 ms; schedule idle $i_rps req/s p99 $i_p99 ms;" \
		"schedule uncached $m_rps req/s p99 $m_p99 ms;" \
		"schedule during sync $l_rps req/s p99 $l_p99 ms ($nsync syncs of 2000 visits finished)"
	echo "$b_rps $b_p99" >> base.txt; echo "$i_rps $i_p99" >> idle.txt; echo "$m_rps $m_p99 $b_rps" >> miss.txt; echo "$l_rps $l_p99 $b_rps $i_rps" >> load.txt
done
col() { awk "{print \$$2}" "$1" | median; }
ratio() { awk "{print \$$2 / \$$3}" "$1" | median; }
paste base.txt idle.txt > pair.txt
echo
echo "medians of $runs runs, ${secs} s each, wrk -t1 -c16, 127.0.0.1:"
printf '  static GET /api/v1 (baseline)         %8.0f req/s  p99 %6.2f ms\n' "$(col base.txt 1)" "$(col base.txt 2)"
printf '  GET /api/v1/schedule, idle            %8.0f req/s  p99 %6.2f ms  (%.2fx the baseline)\n' \
	"$(col idle.txt 1)" "$(col idle.txt 2)" "$(ratio pair.txt 3 1)"
printf '  GET /api/v1/schedule, uncached        %8.0f req/s  p99 %6.2f ms  (%.2fx the baseline)\n' \
	"$(col miss.txt 1)" "$(col miss.txt 2)" "$(ratio miss.txt 1 3)"
printf '  GET /api/v1/schedule, during sync     %8.0f req/s  p99 %6.2f ms  (%.2fx the baseline, %.2fx idle)\n' \
	"$(col load.txt 1)" "$(col load.txt 2)" "$(ratio load.txt 1 3)" "$(ratio load.txt 1 4)"
echo "  goal: >= 5000 req/s and p99 < 20 ms during sync"
echo "RESULT http_static_rps $(col base.txt 1)"
echo "RESULT http_schedule_idle_rps $(col idle.txt 1)"
echo "RESULT http_schedule_uncached_rps $(col miss.txt 1)"
echo "RESULT http_schedule_uncached_vs_static $(ratio miss.txt 1 3)"
echo "RESULT http_schedule_sync_rps $(col load.txt 1)"
echo "RESULT http_schedule_sync_p99_ms $(col load.txt 2)"
echo "RESULT http_schedule_sync_vs_static $(ratio load.txt 1 3)"
