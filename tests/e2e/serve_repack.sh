#!/usr/bin/env bash
# A long-running daemon while another process repacks its log.git (a
# 'plein sync' past log.maxpacks deletes the packs it replaced): the daemon
# goes on syncing over TCP and git, and lets go of the deleted packs, so
# their disk space is freed (it held them open and mapped before).
. "$(dirname "$0")/serve_lib.sh"

count() { sqlite3 -cmd ".timeout 10000" "$TMP/$1/plein.db" "SELECT count(*) FROM daylog"; }
count_is() { [ "$(count "$1")" = "$2" ]; }
has_loc() { plein -C "$1" location list --json | grep -q "$L"; }
packs() { ls "$TMP/$1"/log.git/objects/pack/*.pack 2>/dev/null | wc -l; }
# Deleted packs the daemon of SITE still holds open or mapped.
held_deleted() { cat <(ls -l "/proc/${SERVE_PID[$1]}/fd") "/proc/${SERVE_PID[$1]}/maps" | grep -c 'objects/pack/.*(deleted)'; }
none_held() { [ "$(held_deleted "$1")" = 0 ]; }

# co listens for a (TCP) and meets b through a bare repository (git).
new_network co a b
# a syncs only over TCP: no 'plein sync' ever repacks its log.git, its
# daemon must (past maxloose loose objects, looked at every second here).
printf '[log]\n\tmaxloose = 8\n\tcheck_every = 1\n' >>a/plein.conf
loose() { find "$TMP/$1/log.git/objects" -path '*/objects/??/*' -type f | wc -l; }
L=$(plein -C co location add --name Centrum --kind branch)
git init -q --bare relay.git
plein -C co peer add relay "$TMP/relay.git"
plein -C b peer add relay "$TMP/relay.git"
serve co --listen 127.0.0.1:0 --interval 1
wait_log co "listening for peers"
plein -C a peer add co "tcp://127.0.0.1:$(listen_port co)"
serve a --interval 1
serve b --interval 1
wait_for has_loc a
wait_for has_loc b

# round R: a and b write one entry each; wait until all three have them.
want=0
round() {
	local s
	for s in a b; do plein -C $s daylog add --location "$L" --day "2026-11-$1" "$s $1" >/dev/null; want=$((want + 1)); done
	for s in co a b; do wait_for count_is $s $want || return 1; done
}

t "four rounds of writes at a (TCP) and b (git) reach every site; co's log.git gathers packs"
ok=1
for r in 11 12 13 14; do round $r || ok=0; done
before=$(packs co)
ok_if test $ok = 1 -a "$before" -gt 1

t "another process repacks co's log.git while its daemon runs, deleting packs the daemon knows"
ls co/log.git/objects/pack/*.pack >packs.before
gone() { ! ls $(cat packs.before) >/dev/null 2>&1; }
printf '[log]\n\tmaxpacks = 1\n' >>co/plein.conf
# A repack skips when another plein repacks (the daemon's git child may).
for _ in 1 2 3 4 5; do plein -C co sync relay >/dev/null 2>&1; gone && break; sleep 1; done
echo "# co's packs: $before before, $(packs co) after"
ok_if gone

t "the daemon goes on syncing over TCP and git after the repack (its own git syncs repack again)"
ok=1
for r in 15 16 17; do round $r || ok=0; done
if [ $ok = 1 ] && same_digest co a && same_digest co b && ! has_log co "error"; then
	pass; else fail "counts $(count co) $(count a) $(count b); $(grep -E 'warn|error' co.log | tail -3)"; fi

t "the daemon holds no deleted pack open or mapped: their space is freed"
wait_for none_held co
ok_if test "$(held_deleted co)" = 0

t "a's daemon, which syncs only over TCP, repacked its own log.git past maxloose"
few_loose() { [ "$(loose a)" -le 8 ]; }
wait_for few_loose a
echo "# a's log.git: $(loose a) loose objects, $(packs a) pack(s)"
repacked() { few_loose && has_log a 'log.git repacked'; }
ok_if repacked

t "co's log verifies, and the daemons stop with exit 0"
codes=""
for s in co a b; do stop $s; codes="$codes$STOPPED"; done
ok_if test "$codes" = 000 -a -n "$(plein -C co verify 2>/dev/null | grep '^ok')"

done_testing
