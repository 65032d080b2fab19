#!/usr/bin/env bash
# A TCP peer that is busy ingesting a long chunk is not cut by the idle
# limit (it sends BUSY), a stopped one still is; SIGTERM while an outgoing
# session's chunk is being applied stops the daemon at the next batch
# boundary, and a restart converges. The test-only hook
# PLEIN_TEST_APPLY_DELAY_MS slows every applied part of a batch (4096
# changes; a small batch is one part) down.
. "$(dirname "$0")/serve_lib.sh"

count() { sqlite3 -cmd ".timeout 10000" "$TMP/$1/plein.db" "SELECT count(*) FROM daylog"; }
count_is() { [ "$(count "$1")" = "$2" ]; }
ingesting() { git --git-dir "$TMP/$1/log.git" for-each-ref refs/plein/incoming | grep -q .; }

new_network co b1 b2 b3 b4
L=$(plein -C co location add --name Centrum --kind branch)
bulk_batches co "$L" 12 50 01JBUSY
total=$(count co)
sed -i 's/^\[site\]$/[site]\ntcp_idle = 2/' co/plein.conf
serve co --listen 127.0.0.1:0 --interval 2
wait_log co "listening for peers"
port=$(listen_port co)

t "a peer applying 12 batches for 5 s is not cut by a 2 s idle limit"
PLEIN_TEST_APPLY_DELAY_MS=400 "$PLEIN" -C b1 sync "tcp://127.0.0.1:$port" >b1.out 2>&1
rc=$?
if [ $rc = 0 ] && count_is b1 "$total" && wait_log co "synced: 0 batches in, 1[0-9] out" && ! has_log co "no progress"; then
	pass; else fail "exit $rc, $(count b1) of $total; $(grep -E 'progress|failed' co.log)"; fi

t "a peer stopped (SIGSTOP) in the middle of its ingest is still cut after the idle limit"
PLEIN_TEST_APPLY_DELAY_MS=400 "$PLEIN" -C b2 sync "tcp://127.0.0.1:$port" >b2.out 2>&1 &
client=$!
wait_for ingesting b2
kill -STOP $client
ok_if wait_log co "no progress for 2 s; the session was cut"
kill -CONT $client
wait $client

t "after the stopped peer goes on, a sync completes it: equal digests, a clean verify"
if plein -C b2 sync "tcp://127.0.0.1:$port" >/dev/null && same_digest co b2 && plein -C b2 verify >/dev/null; then
	pass; else fail "$(count b2) of $total"; fi

t "SIGTERM while an outgoing session's chunk is applied: the daemon stops at the next batch, exit 0"
plein -C b3 peer add co "tcp://127.0.0.1:$port"
PLEIN_TEST_APPLY_DELAY_MS=500 serve b3 --interval 1
wait_for ingesting b3
start=$(date +%s.%N)
stop b3
took=$(echo "$(date +%s.%N) - $start" | bc)
applied=$(count b3)
echo "# stopped in $took s with $applied of $total entries applied"
if [ "$STOPPED" = 0 ] && [ "$applied" -lt "$total" ] && has_log b3 "stopping"; then
	pass; else fail "exit $STOPPED, $applied of $total applied; $(tail -5 b3.log)"; fi

t "restarted, the daemon converges with the coordinator, and verify is clean"
serve b3 --interval 1
if wait_for count_is b3 "$total" && wait_for same_digest co b3 && plein -C b3 verify >/dev/null; then
	pass; else fail "$(count b3) of $total"; fi
stop b3

# One large batch is applied in parts of 4096 changes, and the peer hears
# of every 512 changes applied, not only of each batch. Without that, the
# 6 or more parts of 1.5 s each would be one silence well past the
# coordinator's 5 s idle limit; with it the longest is a part's delay.
t "a peer applying one batch of 6000 rows for 9 s or more is not cut by a 5 s idle limit"
plein -C b4 sync "tcp://127.0.0.1:$port" >/dev/null 2>&1
stop co
sed -i 's/^tcp_idle = 2$/tcp_idle = 5/' co/plein.conf
serve co --listen 127.0.0.1:0 --interval 2
listening_twice() { [ "$(grep -c 'listening for peers' "$TMP/co.log")" = 2 ]; }
wait_for listening_twice
port=$(listen_port co)
bulk_batches co "$L" 1 6000 01JBIG
big=$(count co)
PLEIN_TEST_APPLY_DELAY_MS=1500 "$PLEIN" -C b4 sync "tcp://127.0.0.1:$port" >b4.out 2>&1
rc=$?
if [ $rc = 0 ] && count_is b4 "$big" && wait_log co "synced: 0 batches in, 1 out" && [ "$(grep -c 'no progress' co.log)" = 1 ]; then
	pass; else fail "exit $rc, $(count b4) of $big; $(tr '\n' ' ' <b4.out); $(grep -E 'progress|failed' co.log | tail -1)"; fi
stop co

done_testing
