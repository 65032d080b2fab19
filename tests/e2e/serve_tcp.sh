#!/usr/bin/env bash
# Daemons syncing over TCP on 127.0.0.1, with nothing synced by hand:
#   a mesh of three sites that all listen and all know each other;
#   a star of three branches around a listening coordinator;
#   kill -9 of the coordinator while a large transfer comes in, then a
#   restart: nothing lost, nothing doubled;
#   a revoked branch is cut off while the others carry on.
. "$(dirname "$0")/serve_lib.sh"

count() { sqlite3 -cmd ".timeout 10000" "$TMP/$1/plein.db" "SELECT count(*) FROM daylog"; }
count_is() { [ "$(count "$1")" = "$2" ]; }
all_same() { local a=$1; shift; for b in "$@"; do same_digest "$a" "$b" || return 1; done; }
shell_row() { # SITE ID TEXT LOCATION
	sqlite3 -cmd ".timeout 10000" "$TMP/$1/plein.db" \
		"INSERT INTO daylog(id, location_id, day, text) VALUES ('$2', '$4', '2026-12-01', '$3')"
}

# ---- a mesh ----
M=(m1 m2 m3)
new_network m1 m2 m3
LM=$(plein -C m1 location add --name Mesh --kind branch)
for m in "${M[@]}"; do serve "$m" --listen 127.0.0.1:0 --interval 2; done
for m in "${M[@]}"; do wait_log "$m" "listening for peers"; done
for m in "${M[@]}"; do
	for o in "${M[@]}"; do
		[ "$m" = "$o" ] || plein -C "$m" peer add "$o" "tcp://127.0.0.1:$(listen_port "$o")"
	done
done

t "mesh: three daemons that all listen and know each other reach one digest"
ok_if wait_for all_same m1 m2 m3

t "mesh: writes at every site (CLI and sqlite3 shell) reach every site, each once"
for m in "${M[@]}"; do
	plein -C "$m" daylog add --location "$LM" --day 2026-12-01 "$m via de CLI" >/dev/null
	shell_row "$m" "01JMESH${m}0000000000000000" "$m via de shell" "$LM"
done
ok=1
for m in "${M[@]}"; do wait_for count_is "$m" 6 || ok=0; done
if [ $ok = 1 ] && wait_for all_same m1 m2 m3; then pass; else fail "counts $(count m1) $(count m2) $(count m3)"; fi

t "mesh: status shows each TCP peer's last success and bytes"
ok_if python3 -c "
import json, sys
p = {x['peer']: x for x in json.loads(sys.argv[1])['peers']}
assert p['m2']['last_ok'] and p['m2']['bytes_in'] > 0 and p['m2']['bytes_out'] > 0, p
" "$(plein -C m1 status --json)"

t "mesh: all stop with exit 0"
codes=""
for m in "${M[@]}"; do stop "$m"; codes="$codes$STOPPED"; done
ok_if test "$codes" = 000

# ---- a star ----
B=(b1 b2 b3)
new_network co "${B[@]}"
L=$(plein -C co location add --name Centrum --kind branch)
ID_B3=$(plein -C b3 id)
serve co --listen 127.0.0.1:0 --interval 2
wait_log co "listening for peers"
port=$(listen_port co)
for b in "${B[@]}"; do
	plein -C "$b" peer add hub "tcp://127.0.0.1:$port"
	sed -i 's/^\[site\]$/[site]\nbackoff_max = 2/' "$b/plein.conf"
	serve "$b" --interval 1
done

t "star: the branches reach the coordinator's state"
ok_if wait_for all_same co "${B[@]}"

t "star: what one branch writes reaches the others through the coordinator"
for b in "${B[@]}"; do plein -C "$b" daylog add --location "$L" --day 2026-12-01 "$b schrijft" >/dev/null; done
shell_row b2 01JSTARSHELL00000000000000 "b2 shell" "$L"
ok=1
for s in co "${B[@]}"; do wait_for count_is "$s" 4 || ok=0; done
if [ $ok = 1 ] && wait_for all_same co "${B[@]}"; then pass; else fail "counts $(count co) $(count b1) $(count b2) $(count b3)"; fi

# ---- kill -9 mid-transfer ----
t "b1 writes 10 batches of 300 entries while its daemon is stopped"
stop b1
bulk_batches b1 "$L" 10 300 01JBULK
ok_if count_is b1 3004

ID_B1=$(plein -C b1 id)
co_has_b1() { # the coordinator's log holds at least one new batch of b1
	local n
	n=$(git --git-dir co/log.git log --format=%s "refs/plein/sites/$ID_B1" 2>/dev/null | wc -l)
	[ "$n" -gt 1 ]
}
t "kill -9 of the coordinator while b1's batches come in, then a restart: nothing lost, nothing doubled"
serve b1 --interval 1
wait_for co_has_b1
applied_at_kill=$(count co)
stop co KILL
echo "# killed with $applied_at_kill of 3004 entries applied at the coordinator"
serve co --listen "127.0.0.1:$port" --interval 2
ok=1
for s in co "${B[@]}"; do wait_for count_is "$s" 3004 || ok=0; done
if [ $ok = 1 ] && wait_for all_same co "${B[@]}" && [ "$(sqlite3 co/plein.db "SELECT count(DISTINCT id) FROM daylog")" = 3004 ]; then
	pass; else fail "counts $(count co) $(count b1) $(count b2) $(count b3)"; fi

t "the coordinator's replica after the crash is what its log rebuilds"
ok_if sh -c "'$PLEIN' -C '$TMP/co' verify >/dev/null"

# ---- a revoked branch ----
t "a revoked branch is cut off: refused at the handshake, with the reason in its log"
plein -C co revoke "$ID_B3" >/dev/null
wait_for all_same co b1 b2   # the revocation reaches the other branches
plein -C b3 daylog add --location "$L" --day 2026-12-02 "na de intrekking" >/dev/null
if wait_log b3 "peer hub: sync failed \(attempt [0-9]+\): .*revoked"; then pass; else fail "$(tail -3 b3.log)"; fi

t "nothing of the revoked branch's later writes is applied anywhere"
plein -C b1 daylog add --location "$L" --day 2026-12-02 "b1 na de intrekking" >/dev/null
wait_for count_is b2 3005
ok_if test "$(sqlite3 co/plein.db "SELECT count(*) FROM daylog WHERE text = 'na de intrekking'")$(sqlite3 b2/plein.db "SELECT count(*) FROM daylog WHERE text = 'na de intrekking'")" = 00

t "the others carry on: one digest among the coordinator and b1, b2"
ok_if wait_for all_same co b1 b2

t "every daemon stops with exit 0"
codes=""
for s in "${B[@]}" co; do stop "$s"; codes="$codes$STOPPED"; done
ok_if test "$codes" = 0000

done_testing
