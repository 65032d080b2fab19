#!/usr/bin/env bash
# Two sites edit the same location's address while apart, then sync
# through a stick: one address is kept, the other is shown by
# 'plein conflicts' at both, the same way (and at a site that joins
# later), and the digests meet. An edit made after seeing the other value
# is no conflict, and settles one.
. "$(dirname "$0")/lib.sh"

stick="$TMP/stick.git"
plein init coord --new-network "Regio Twente" --name "Coördinatie" >/dev/null
plein -C coord card > card.txt
id_b=$(plein init borne --card card.txt --name "Bibliotheek Borne" --role branch)
plein -C coord admit "$id_b" --name "Bibliotheek Borne" --role branch --key "$(plein -C borne id --key)" >/dev/null
L=$(plein -C coord location add --name "Borne" --kind branch --address "Markt 1, Borne")
plein -C coord sync "$stick" >/dev/null 2>&1
plein -C borne sync "$stick" >/dev/null 2>&1
# An edit the way a script or the sqlite3 shell would make it: plein seals it.
address() { sqlite3 "$1/plein.db" "UPDATE location SET address = '$2' WHERE id = '$L'" && plein -C "$1" status >/dev/null; }

t "nothing to show before any concurrent edit"
ok_if test "$(plein -C borne conflicts --json)" = "[]"

t "an edit after seeing the other site's is no conflict"
address borne "Marktstraat 1, Borne"
plein -C borne sync "$stick" >/dev/null; plein -C coord sync "$stick" >/dev/null
address coord "Marktstraat 1, 7622 AA Borne"
plein -C coord sync "$stick" >/dev/null; plein -C borne sync "$stick" >/dev/null
ok_if test "$(plein -C coord conflicts --json)" = "[]" -a "$(plein -C borne conflicts --json)" = "[]"

t "plein status counts no conflicts"
ok_if sh -c "'$PLEIN' -C borne status --json | grep -q '\"conflicts\":0,' && '$PLEIN' -C borne status | grep -qx 'conflicts: *0'"

t "two edits made apart: both sites show one conflict, the same one"
address coord "Stationsweg 2, Borne"
address borne "Grotestraat 3, Borne"
plein -C coord sync "$stick" >/dev/null; plein -C borne sync "$stick" >/dev/null; plein -C coord sync "$stick" >/dev/null
jc=$(plein -C coord conflicts --json); jb=$(plein -C borne conflicts --json)
# noticed_at is each site's own moment; the rest must match.
strip() { sed 's/"noticed_at":"[^"]*"//'; }
if [ "$(echo "$jc" | grep -o '"lost_at"' | wc -l)" = 1 ] && [ "$(echo "$jc" | strip)" = "$(echo "$jb" | strip)" ] && \
   echo "$jc" | grep -q '"table":"location","id":"'"$L"'","column":"address"'; then pass; else fail "$jc / $jb"; fi

t "plein status counts the conflict at both sites, and says where to see it"
ok_if sh -c "'$PLEIN' -C coord status --json | grep -q '\"conflicts\":1,' && '$PLEIN' -C borne status --json | grep -q '\"conflicts\":1,' &&
	'$PLEIN' -C coord status | grep -qx \"conflicts: *1 (see them with 'plein conflicts')\""

t "the kept value is the address both have; the other one is not lost"
kept=$(plein -C coord location list --json | grep -o '"address":"[^"]*"' | cut -d'"' -f4)
if echo "$jc" | grep -q "\"kept\":\"$kept\"" && \
   { echo "$jc" | grep -q '"lost":"Stationsweg 2, Borne"' || echo "$jc" | grep -q '"lost":"Grotestraat 3, Borne"'; } && \
   [ "$kept" != "$(echo "$jc" | grep -o '"lost":"[^"]*"' | cut -d'"' -f4)" ]; then pass; else fail "$kept: $jc"; fi

t "the sites are named as the roster names them"
ok_if sh -c "echo '$jc' | grep -q '\"kept_by\":\"Bibliotheek Borne\"\|\"lost_by\":\"Bibliotheek Borne\"' && echo '$jc' | grep -q 'Coördinatie'"

t "the digests meet, and verify rebuilds the same state"
ok_if sh -c "test \"\$('$PLEIN' -C coord digest)\" = \"\$('$PLEIN' -C borne digest)\" && '$PLEIN' -C coord verify >/dev/null"

t "a site that joins later gets both edits at once and notices the same conflict"
id_h=$(plein init hengelo --card card.txt --name "Bibliotheek Hengelo" --role branch)
plein -C coord admit "$id_h" --name "Bibliotheek Hengelo" --role branch --key "$(plein -C hengelo id --key)" >/dev/null
plein -C coord sync "$stick" >/dev/null; plein -C hengelo sync "$stick" >/dev/null
ok_if test "$(plein -C hengelo conflicts --json | strip)" = "$(echo "$jc" | strip)"

t "the table for people says what was kept and what fell away"
out=$(plein -C coord conflicts)
if echo "$out" | head -1 | grep -q "tabel.*record.*veld.*bewaard.*door.*op.*vervallen.*door.*op.*opgemerkt" && \
   echo "$out" | grep -q "location.*$L.*address"; then pass; else fail "$out"; fi

t "conflicts takes no arguments"
expect_fail 1 "" plein -C coord conflicts extra

t "someone who had both values edits it again: the conflict is settled everywhere"
address borne "Grotestraat 3, 7622 AB Borne"
plein -C borne sync "$stick" >/dev/null; plein -C coord sync "$stick" >/dev/null; plein -C hengelo sync "$stick" >/dev/null
ok_if test "$(plein -C coord conflicts --json)$(plein -C borne conflicts --json)$(plein -C hengelo conflicts --json)" = "[][][]"

t "... and plein status counts none again"
ok_if sh -c "'$PLEIN' -C coord status --json | grep -q '\"conflicts\":0,'"

done_testing
