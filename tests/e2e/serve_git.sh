#!/usr/bin/env bash
# Two daemons that meet only through git: a shared bare repository, a
# stick that is plugged in while they run, and a git server that is down
# at first. Nothing is synced by hand: every change travels because the
# daemons notice it.
. "$(dirname "$0")/serve_lib.sh"

gitd_pid=""
trap 'if [ -n "$gitd_pid" ]; then kill "$gitd_pid"; fi; serve_cleanup' EXIT

new_network co a
git init -q --bare relay.git
plein -C co peer add relay "$TMP/relay.git"
plein -C a peer add relay "$TMP/relay.git"
# The git server of the region: down for now. Back-off is capped at 4 s
# so the test does not wait long once it is up.
gport=$(free_port)
plein -C a peer add regio "git://127.0.0.1:$gport/plein.git"
sed -i 's/^\[site\]$/[site]\nbackoff_max = 4/' a/plein.conf
L=$(plein -C co location add --name Centrum --kind branch)

serve co --interval 1
serve a --interval 1 --verbose

t "the daemons bring both replicas to one digest by themselves"
ok_if wait_for same_digest co a

t "a row written with the sqlite3 shell at one site reaches the other, with no sync run by hand"
sqlite3 -cmd ".timeout 10000" a/plein.db \
	"INSERT INTO daylog(id, location_id, day, text) VALUES ('01JDAEMONSHELL0000000000AB', '$L', '2026-12-01', 'uit de shell')"
got() { [ "$(sqlite3 -cmd ".timeout 10000" co/plein.db "SELECT text FROM daylog WHERE id = '01JDAEMONSHELL0000000000AB'")" = "uit de shell" ]; }
if wait_for got && wait_for same_digest co a; then pass; else fail "$(tail -5 a.log)"; fi

t "and a change the other way, through the CLI, comes back"
plein -C co daylog add --location "$L" --day 2026-12-01 "van de coördinator" >/dev/null
back() { [ "$(sqlite3 -cmd ".timeout 10000" a/plein.db "SELECT count(*) FROM daylog WHERE text = 'van de coördinator'")" = 1 ]; }
ok_if wait_for back

t "the unreachable git server is backed off from, exponentially, with the reason in the log"
wait_log a "peer regio: sync failed \(attempt 3\)"
d1=$(sed -n 's/.*peer regio: sync failed (attempt 1): .*next try in \([0-9.]*\) s$/\1/p' a.log)
d3=$(sed -n 's/.*peer regio: sync failed (attempt 3): .*next try in \([0-9.]*\) s$/\1/p' a.log)
# attempt n waits between 2^(n-1)/2 and 2^(n-1) seconds
if has_log a "warn: peer regio: sync failed \(attempt 1\): cannot reach git://127\.0\.0\.1:$gport/plein\.git.*backing off" &&
   python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(not (0.5 <= a <= 1 and 2 <= b <= 4))" "$d1" "$d3"; then
	pass; else fail "d1=$d1 d3=$d3: $(grep regio a.log | head -5)"; fi

t "repeated failures are info lines, not a storm of warnings"
ok_if test "$(grep -c 'warn: peer regio' a.log)" = 1

t "once the server is up, the peer syncs and the log says it is reachable again"
mkdir srv && git init -q --bare srv/plein.git
git daemon --export-all --enable=receive-pack --base-path="$TMP/srv" --listen=127.0.0.1 --port="$gport" \
	--reuseaddr "$TMP/srv" 2>gitd.log &
gitd_pid=$!
if wait_log a "info: peer regio: reachable again after [0-9]+ failed attempts" && wait_log a "peer regio: synced: "; then
	pass; else fail "$(grep regio a.log | tail -3)"; fi

t "the server now holds both chains"
ok_if test "$(git --git-dir srv/plein.git for-each-ref refs/plein/sites | wc -l)" = 2

t "a stick that is not plugged in is one status line, not an error storm"
plein -C a peer add stick "$TMP/usb/plein.git"   # plein.conf is reloaded by the daemon
wait_log a "info: peer stick: not present: $TMP/usb/plein.git has no repository"
n0=$(grep -c 'peer relay: syncing' a.log)
wait_for sh -c "[ \$(grep -c 'peer relay: syncing' a.log) -ge $((n0 + 3)) ]"
ok_if test "$(grep -c 'peer stick' a.log)" = 2   # "stick: URL" when read, then "not present"

t "plein status shows the stick's status line as its last error"
ok_if sh -c "'$PLEIN' -C a status | grep -q 'stick: .*laatste fout .*not present'"

t "plugging it in: the daemon syncs it at once"
mkdir usb && git init -q --bare usb/plein.git
if wait_log a "info: peer stick: $TMP/usb/plein.git is there" &&
   wait_for sh -c "[ \$(git --git-dir usb/plein.git for-each-ref refs/plein/sites | wc -l) = 2 ]"; then
	pass; else fail "$(grep stick a.log)"; fi

t "plein status shows per peer the last success and the bytes moved"
st=$(plein -C a status --json)
ok_if python3 -c "
import json, sys
p = {x['peer']: x for x in json.loads(sys.argv[1])['peers']}
assert p['relay']['last_ok'] and p['relay']['bytes_in'] > 0 and p['relay']['batches_in'] > 0, p['relay']
assert p['regio']['last_ok'] and p['regio']['last_error'].startswith('cannot reach'), p['regio']
assert p['stick']['last_ok'], p['stick']
" "$st"

t "the text status says it too: bytes in and out"
ok_if sh -c "'$PLEIN' -C a status | grep -qE '^  relay: laatst gelukt 20.*bytes in'"

t "both stop cleanly, exit 0"
stop a; ra=$STOPPED; stop co; rc=$STOPPED
ok_if test "$ra/$rc" = 0/0

t "nothing lost or doubled: one digest, and each rebuilds it from its log"
ok_if sh -c "'$PLEIN' -C a verify >/dev/null && '$PLEIN' -C co verify >/dev/null && [ \"\$('$PLEIN' -C a digest)\" = \"\$('$PLEIN' -C co digest)\" ]"

done_testing
