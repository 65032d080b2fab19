#!/usr/bin/env bash
# Fair sign-ups and the referral lifecycle across sites that sync through a
# bare repository (docs/signup.md, docs/referral.md): a coordinator and two
# branches.
# - Both branches, apart, book the last places of one workshop: after sync
#   every site shows the same bookings and the same waitlist in the same
#   order (the earliest bookings by clock keep their places), plein
#   conflicts shows who was moved to the waitlist, the same everywhere, and
#   no site writes anything because of it.
# - A cancellation moves the same person up everywhere.
# - A referral set 'done' at one site and to an older 'contacted' at
#   another ends 'done' everywhere, with both changes in its history;
#   attempts made at three sites add up.
. "$(dirname "$0")/lib.sh"

stick="$TMP/stick.git"
pyj() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
same() { if [ "$1" = "$2" ]; then pass; else fail "got '$1', expected '$2'"; fi; }
sync() { for s in "$@"; do plein -C "$s" sync "$stick" >/dev/null 2>&1 || echo "# sync of $s failed"; done; }
# Every site has every change: two rounds through the stick.
sync_all() { sync co a b co a b; }
batches() { git --git-dir "$1/log.git" rev-list --count "refs/plein/sites/$2"; }

plein init co --new-network "Regio Twente" --name "Coördinatie" >/dev/null
plein -C co card > card.txt
id_a=$(plein init a --card card.txt --name "Bibliotheek Borne" --role branch)
id_b=$(plein init b --card card.txt --name "Bibliotheek Hengelo" --role branch)
id_co=$(plein -C co id)
plein -C co admit "$id_a" --name "Bibliotheek Borne" --role branch --key "$(plein -C a id --key)" >/dev/null
plein -C co admit "$id_b" --name "Bibliotheek Hengelo" --role branch --key "$(plein -C b id --key)" >/dev/null
L=$(plein -C co location add --name "Centrum" --kind branch)
P=$(plein -C co partner add --name "Taalhuis" --referral-method call --reachable "ma-vr 9-12" --max-attempts 3)
O=$(plein -C co offering add --partner "$P" --theme digitaal --kind workshop --title "Werken met DigiD" --capacity 3 --signup)
R=$(plein -C co rule add --offering "$O" --location "$L" --rrule "FREQ=WEEKLY;BYDAY=TU" --start 14:00 --end 16:00 --from 2026-11-03)
D=2026-12-08
sc=$(plein -C co signup add --rule "$R" --date "$D" --who "Sanne Coördinatie")
ref=$(plein -C co referral add --to "$P" --theme taal --by "Els (coördinator)")
ref2=$(plein -C co referral add --to "$P" --theme taal)
sync_all

t "setup: both branches hold the workshop, one place taken, two free"
same "$(plein -C a signup list --rule "$R" --date "$D" --json | pyj "len(d)") $(plein -C b signup list --rule "$R" --date "$D" --json | pyj "len(d)")" "1 1"

# --- fair sign-ups -------------------------------------------------------
# Apart, each branch books two people into the two free places (each
# thinks it has them), in turns; Hengelo also waitlists a third.
a1=$(plein -C a signup add --rule "$R" --date "$D" --who "Anna de Vries")
b1=$(plein -C b signup add --rule "$R" --date "$D" --who "Bram Jansen")
a2=$(plein -C a signup add --rule "$R" --date "$D" --who "Aylin Kaya")
b2=$(plein -C b signup add --rule "$R" --date "$D" --who "Bas Mulder")
b3=$(plein -C b signup add --rule "$R" --date "$D" --who "Bilal Amrani")

t "apart, each branch believes it booked both places"
same "$(plein -C a signup list --rule "$R" --date "$D" --json | pyj "[r['status'] for r in d]") $(plein -C b signup list --rule "$R" --date "$D" --json | pyj "[r['status'] for r in d]")" \
	"['booked', 'booked', 'booked'] ['booked', 'booked', 'booked', 'waitlisted']"

na=$(batches a "$id_a"); nb=$(batches b "$id_b"); nco=$(batches co "$id_co")
sync_all
# Everything but the names (sealed: not every site may read them).
view() { plein -C "$1" signup list --rule "$R" --date "$D" --json | pyj "[(r['id'], r['status'], r['position'], r['place'], r['site'], r['note']) for r in d]"; }

t "after sync every site shows the same bookings and waitlist, in the same order"
same "$(view co)|$(view a)" "$(view b)|$(view b)"

t "the earliest bookings by clock keep the places; the rest wait, in booking order"
same "$(view co)" "[('$sc', 'booked', None, 1, 'Coördinatie', None), ('$a1', 'booked', None, 2, 'Bibliotheek Borne', None), ('$b1', 'booked', None, 3, 'Bibliotheek Hengelo', None), ('$a2', 'waitlisted', 1, 4, 'Bibliotheek Borne', 'overbooked'), ('$b2', 'waitlisted', 2, 5, 'Bibliotheek Hengelo', 'overbooked'), ('$b3', 'waitlisted', 3, 6, 'Bibliotheek Hengelo', None)]"

t "the booking site still reads its participants' names; the coordinator does not"
same "$(plein -C a signup list --rule "$R" --date "$D" --json | pyj "[r['who'] for r in d if r['id'] in ('$a1', '$a2')]") $(plein -C co signup list --rule "$R" --date "$D" --json | pyj "[r['who'] for r in d if r['id'] == '$a1']")" \
	"['Anna de Vries', 'Aylin Kaya'] ['(versleuteld)']"

t "plein conflicts shows who was moved to the waitlist, the same at every site"
cj=$(plein -C co conflicts --json | pyj "[c for c in d if c['table'] == 'signup']")
same "$(plein -C a conflicts --json | pyj "[c for c in d if c['table'] == 'signup']")|$(plein -C b conflicts --json | pyj "[c for c in d if c['table'] == 'signup']")" "$cj|$cj"

t "... as status conflicts of those sign-ups, with the occurrence and no personal data"
same "$(plein -C co conflicts --json | pyj "[(c['id'], c['column'], c['kept'], c['lost'], c['lost_by'], c['rule_id'], c['occurrence_date'], c['capacity'], c['position']) for c in d if c['table'] == 'signup']")" \
	"[('$a2', 'status', 'waitlisted', 'booked', 'Bibliotheek Borne', '$R', '$D', 3, 1), ('$b2', 'status', 'waitlisted', 'booked', 'Bibliotheek Hengelo', '$R', '$D', 3, 2)]"

t "plein status counts them with the conflicts, as many as 'plein conflicts' lists"
same "$(plein -C co status --json | pyj "d['conflicts']") $(plein -C co conflicts --json | pyj "len(d)")" "2 2"

t "the conflicts table for people has an 'Overboekt' part without names"
out=$(plein -C co conflicts)
if echo "$out" | grep -q "^Overboekt:" && echo "$out" | grep -qE "Werken met DigiD +$D +3 +$a2 +Bibliotheek Borne +[0-9T:-]+Z +wachtlijst 1" &&
   ! grep -r -a -q -e "Aylin" -e "Bas Mulder" <<<"$out$(plein -C a conflicts --json)"; then pass; else fail "$out"; fi

t "nothing is written because of it: no site sealed a batch during the syncs"
same "$(batches a "$id_a") $(batches b "$id_b") $(batches co "$id_co") $(plein -C co status --json | pyj "d['unsealed_changes']")" "$na $nb $nco 0"

t "the digests meet"
same "$(plein -C co digest) $(plein -C a digest)" "$(plein -C b digest) $(plein -C b digest)"

t "a cancellation moves the first waitlisted person up, and says so"
out=$(plein -C co signup set "$b1" --status cancelled)
same "$out" "$a2: van de wachtlijst naar geboekt"

t "after sync the same person has moved up at every site"
sync_all
same "$(view a)|$(view b)" "$(view co)|$(view co)"

t "... and it is the first one who waited"
same "$(view a | python3 -c "import sys, ast; print([(r[0], r[1], r[2]) for r in ast.literal_eval(sys.stdin.read())])")" \
	"[('$sc', 'booked', None), ('$a1', 'booked', None), ('$a2', 'booked', None), ('$b2', 'waitlisted', 1), ('$b3', 'waitlisted', 2), ('$b1', 'cancelled', None)]"

t "cancellations made apart at two sites move the same people up everywhere"
plein -C a signup set "$a1" --status cancelled >/dev/null
plein -C b signup set "$sc" --status cancelled >/dev/null
sync_all
same "$(view a)|$(view b)" "$(view co)|$(view co)"

t "... both freed places go to the first two who waited"
same "$(view co | python3 -c "import sys, ast; print([(r[0], r[1]) for r in ast.literal_eval(sys.stdin.read()) if r[1] != 'cancelled'])")" \
	"[('$a2', 'booked'), ('$b2', 'booked'), ('$b3', 'booked')]"

t "a moved-up booking is no longer a conflict"
same "$(plein -C co conflicts --json | pyj "[c['id'] for c in d if c['table'] == 'signup']")" "[]"

# --- referrals -------------------------------------------------------------
t "attempts made apart at three sites add up"
plein -C co referral attempt "$ref" >/dev/null
plein -C a referral attempt "$ref" >/dev/null
plein -C b referral attempt "$ref" >/dev/null 2>&1
sync_all
same "$(plein -C co referral show "$ref" --json | pyj "d['attempts']") $(plein -C a referral show "$ref" --json | pyj "d['attempts']") $(plein -C b referral show "$ref" --json | pyj "d['attempts']")" "3 3 3"

t "then every site suggests 'unreachable' (the partner agreed on 3 attempts)"
same "$(plein -C a referral show "$ref" --json | pyj "d['suggest']") $(plein -C b referral show "$ref" | grep -c '^advies: .*--status unreachable$')" "unreachable 1"

t "a status race: an older 'contacted' arrives after 'done', and 'done' stays everywhere"
plein -C b referral set "$ref" --status contacted --by "Bram (balie)"   # first, by the clock
plein -C a referral set "$ref" --status done --by "Anna (balie)"        # later
sync a b co a b                                                         # 'contacted' reaches a last
same "$(plein -C co referral show "$ref" --json | pyj "d['status']") $(plein -C a referral show "$ref" --json | pyj "d['status']") $(plein -C b referral show "$ref" --json | pyj "d['status']")" \
	"done done done"

t "both changes are in the history, in clock order, the same at every site"
hist() { plein -C "$1" referral show "$ref" --json | pyj "[(e['site_id'], e['staff'], e['from'], e['to']) for e in d['history']]"; }
same "$(hist co)|$(hist a)|$(hist b)" \
	"$(for s in co a b; do printf "[('$id_co', 'Els (coördinator)', None, 'new'), ('$id_b', 'Bram (balie)', 'new', 'contacted'), ('$id_a', 'Anna (balie)', 'new', 'done')]|"; done | sed 's/|$//')"

t "the history's times are the same everywhere, and the closing time came along"
same "$(plein -C b referral show "$ref" --json | pyj "([e['at'] for e in d['history']], d['closed_at'])")" \
	"$(plein -C co referral show "$ref" --json | pyj "([e['at'] for e in d['history']], d['closed_at'])")"

t "the other order: 'done' first, a later 'contacted' from a site that had not seen it: still 'done'"
plein -C a referral set "$ref2" --status done
plein -C b referral set "$ref2" --status contacted
sync_all
same "$(plein -C co referral show "$ref2" --json | pyj "(d['status'], [e['to'] for e in d['history']])") $(plein -C b referral show "$ref2" --json | pyj "d['status']")" \
	"('done', ['new', 'done', 'contacted']) done"

t "a status change made in a sqlite3 shell travels with its history row"
r3=$(plein -C co referral add --to "$P" --theme werk)
sync co b
sqlite3 b/plein.db "UPDATE referral SET status = 'appointment' WHERE id = '$r3'"
plein -C b status >/dev/null
sync b co
same "$(plein -C co referral show "$r3" --json | pyj "(d['status'], [(e['site_id'], e['from'], e['to']) for e in d['history']])")" \
	"('appointment', [('$id_co', None, 'new'), ('$id_b', 'new', 'appointment')])"

t "the digests meet and every site verifies"
sync_all
ok_if sh -c "test \"\$('$PLEIN' -C co digest)\" = \"\$('$PLEIN' -C a digest)\" -a \"\$('$PLEIN' -C a digest)\" = \"\$('$PLEIN' -C b digest)\" && '$PLEIN' -C co verify >/dev/null && '$PLEIN' -C a verify >/dev/null && '$PLEIN' -C b verify >/dev/null"

done_testing
