#!/usr/bin/env bash
# A star around a coordinator, through git: three branches, each with its
# own relay repository (a stick or a folder on a share) that only it and
# the coordinator sync with. The coordinator's daemon passes on what one
# branch wrote to the others; every daemon runs, nobody syncs by hand.
# Writes land everywhere at once (CLI and sqlite3 shell) and all four
# replicas end with one digest: nothing lost, nothing doubled.
. "$(dirname "$0")/serve_lib.sh"

B=(b1 b2 b3)
new_network co "${B[@]}"
L=$(plein -C co location add --name Centrum --kind branch)
for b in "${B[@]}"; do
	git init -q --bare "r_$b.git"
	plein -C "$b" peer add hub "$TMP/r_$b.git"
	plein -C co peer add "$b" "$TMP/r_$b.git"
done
serve co --interval 1
for b in "${B[@]}"; do serve "$b" --interval 2; done

all_same() { for b in "${B[@]}"; do same_digest co "$b" || return 1; done; }

t "the admissions and the location reach every branch"
ok_if wait_for all_same

t "writes at every site, through the CLI and a sqlite3 shell, all succeed while every daemon runs"
wrote=0
for i in 1 2 3; do
	for b in "${B[@]}"; do plein -C "$b" daylog add --location "$L" --day 2026-12-0$i "$b dag $i" >/dev/null && wrote=$((wrote + 1)); done
	plein -C co daylog add --location "$L" --day 2026-12-0$i "co dag $i" >/dev/null && wrote=$((wrote + 1))
done
for b in "${B[@]}"; do
	sqlite3 -cmd ".timeout 10000" "$b/plein.db" \
		"INSERT INTO daylog(id, location_id, day, text) VALUES ('01JSTARSHELL$(printf '%014d' "${b#b}")', '$L', '2026-12-04', '$b shell')" &&
		wrote=$((wrote + 1))
done
ok_if test "$wrote" = 15

count_is() { [ "$(sqlite3 -cmd ".timeout 10000" "$1/plein.db" 'SELECT count(*) FROM daylog')" = "$2" ]; }
t "every replica ends with all 15 entries, each once"
ok=1
for s in co "${B[@]}"; do wait_for count_is "$s" 15 || ok=0; done
ok_if test "$ok" = 1

t "and with one digest"
ok_if wait_for all_same

t "the coordinator passed on what it received: its log says so"
ok_if has_log co "info: peer b[123]: synced: [1-9][0-9]* batches in, [1-9]"

t "every daemon stops cleanly with exit 0"
codes=""
for s in "${B[@]}" co; do stop "$s"; codes="$codes$STOPPED"; done
ok_if test "$codes" = 0000

t "each replica rebuilds that state from its log"
ok=1
for s in co "${B[@]}"; do "$PLEIN" -C "$s" verify >/dev/null || ok=0; done
ok_if test "$ok" = 1

done_testing
