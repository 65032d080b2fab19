#!/usr/bin/env bash
# TCP sync through a proxy that drops, duplicates, flips, truncates, cuts
# and delays: every faulty session fails with one clear line and keeps
# what it had stored; syncing on until a session gets through converges
# to equal digests, with every change there exactly once.
. "$(dirname "$0")/lib.sh"
RESP=${TCP_RESPONDER:?set TCP_RESPONDER}
PROXY=${FAULTPROXY:?set FAULTPROXY}

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$TMP"; }
trap cleanup EXIT

wait_port() { for _ in $(seq 100); do [ -s "$1" ] && break; sleep 0.05; done; cat "$1"; }

plein init coord --new-network "Regio Twente" --name "Coördinatie" >/dev/null
plein -C coord card > card.txt
id_b=$(plein init borne --card card.txt --name "Bibliotheek Borne" --role branch)
plein -C coord admit "$id_b" --key "$(plein -C borne id --key)" --name "Borne" --role branch >/dev/null
L=$(plein -C coord location add --name "Borne" --kind branch)

export TCP_RESPONDER_IDLE_MS=2000 # a stream that lost bytes stalls; end it soon
"$RESP" coord coord.port >coord.sessions 2>coord.err & pids+=($!)
pc=$(wait_port coord.port)
"$RESP" borne borne.port >borne.sessions 2>borne.err & pids+=($!)
pb=$(wait_port borne.port)
faults=drop,dup,flip,trunc,cut,delay,clean
"$PROXY" proxy_c.port "$pc" "$faults" 7 >proxy_c.log & pids+=($!)
xc=$(wait_port proxy_c.port)
"$PROXY" proxy_b.port "$pb" "$faults" 11 >proxy_b.log & pids+=($!)
xb=$(wait_port proxy_b.port)

# sync_until FROM PORT: sync through the proxy until a session succeeds;
# every failure must be one 'plein: ' line with exit 2.
bad_lines=0
failures=0
sync_until() {
	local tries=0 err
	while [ $tries -lt 20 ]; do
		tries=$((tries + 1))
		if err=$(plein -C "$1" sync "tcp://127.0.0.1:$2" 2>&1 >/dev/null); then return 0; fi
		failures=$((failures + 1))
		echo "# $1: ${err#plein: }"
		if [ "$(printf '%s\n' "$err" | grep -c '^plein: ')" -ne 1 ]; then bad_lines=$((bad_lines + 1)); echo "# $err"; fi
	done
	return 1
}

t "the first sync gets through the faults in the end"
ok_if sync_until borne "$xc"

for round in 1 2 3; do
	for i in 1 2 3; do
		plein -C coord daylog add --location "$L" --day 2026-11-2$round "coord $round.$i" >/dev/null
		plein -C borne daylog add --location "$L" --day 2026-11-2$round "borne $round.$i" >/dev/null
	done
	t "round $round: syncs both ways through faulty proxies converge"
	if sync_until borne "$xc" && sync_until coord "$xb" && sync_until borne "$xc"; then
		ok_if test "$(plein -C coord digest)" = "$(plein -C borne digest)"
	else
		fail "a sync never got through"
	fi
done

t "faults made syncs fail, and every failure said so in one line"
ok_if test "$failures" -ge 5 -a "$bad_lines" -eq 0

t "the proxies injected every kind of fault"
ok_if sh -c "cat proxy_c.log proxy_b.log | grep -c -E 'drop|dup|flip|trunc|cut' | grep -qv '^0$'"

t "nothing lost, nothing applied twice: each line once at both sites"
ok=1
for site in coord borne; do
	for round in 1 2 3; do for i in 1 2 3; do for who in coord borne; do
		c=$(plein -C $site daylog list --json | grep -o "\"$who $round.$i\"" | wc -l)
		[ "$c" -eq 1 ] || { ok=0; echo "# $site has '$who $round.$i' $c times"; }
	done; done; done
done
ok_if test $ok -eq 1

t "verify rebuilds the same state from the log at both sites"
ok_if sh -c "'$PLEIN' -C coord verify >/dev/null && '$PLEIN' -C borne verify >/dev/null"

done_testing
