#!/usr/bin/env bash
# Registration, referrals, sign-ups and the day log from the command line,
# with the visitor's details sealed: every command, exact results, and
# every bad input exits 1 with one 'plein:' line and changes nothing.
. "$(dirname "$0")/lib.sh"

A="$TMP/a"
pa() { plein -C "$A" "$@"; }
q() { sqlite3 "$A/plein.db" "$@"; }
# pyj EXPR: evaluate EXPR over the JSON document d read from stdin.
pyj() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# same GOT WANT: pass if equal, else show both.
same() { if [ "$1" = "$2" ]; then pass; else fail "got '$1', expected '$2'"; fi; }

# bad CODE PATTERN CMD...: CMD fails like expect_fail, and the digest of
# site a is what it was before.
bad() {
	local code=$1 pat=$2; shift 2
	local before after err rc
	before=$(pa digest)
	err=$("$@" 2>&1 >/dev/null); rc=$?
	after=$(pa digest)
	if [ "$rc" -ne "$code" ]; then fail "exit $rc, expected $code: $* -> $err"
	elif ! printf '%s\n' "$err" | grep -qE "^plein: .*$pat"; then fail "message '$err' does not match '$pat'"
	elif [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ]; then fail "more than one line: $err"
	elif [ "$before" != "$after" ]; then fail "the digest changed: $*"
	else pass; fi
}

new_site a
today=$(TZ=Europe/Amsterdam date +%F)
loc=$(pa location add --name "Bibliotheek Centrum" --kind branch)
ny=$(pa location add --name "Mobiel New York" --kind mobile --tz America/New_York)
jl=$(pa partner add --name "Juridisch Loket" --referral-method call --reachable "ma-vr 9-12" --max-attempts 2)
th=$(pa partner add --name "Taalhuis")

# --- visit ------------------------------------------------------------------

t "visit add prints the new visit id alone"
v1=$(pa visit add --location "$loc" --theme werk --theme geld --agency uwv --kind formulier \
	--channel appointment --at "2026-11-24 10:30" --partner "$jl" --solved --minutes 20)
ok_if test ${#v1} -eq 26

t "visit add writes one visit row (UTC, day-part, channel)"
same "$(q "SELECT location_id, at, daypart, channel FROM visit WHERE id = '$v1'")" \
	"$loc|2026-11-24T09:30:00Z|ochtend|appointment"

t "and one question per --theme, each with kind, agency, partner, solved, bucket"
same "$(q "SELECT group_concat(x, ';') FROM (SELECT theme || ',' || kind || ',' || agency || ',' || partner_id || ',' || solved || ',' || minutes AS x
	FROM question WHERE visit_id = '$v1' ORDER BY theme)")" "geld,formulier,uwv,$jl,1,30;werk,formulier,uwv,$jl,1,30"

t "defaults: walk_in, now, not solved, no kind, agency, partner or minutes"
v2=$(pa visit add --location "$loc" --theme digitaal)
same "$(q "SELECT v.channel, substr(v.at, 1, 10), q.solved, coalesce(q.kind, q.agency, q.partner_id, q.minutes, '-')
	FROM visit v JOIN question q ON q.visit_id = v.id WHERE v.id = '$v2'")" "walk_in|$(date -u +%F)|0|-"

t "day-parts follow local time at the location: ochtend < 12:00 <= middag < 17:00 <= avond"
parts=""
for at in "2026-11-24 11:59" "2026-11-24 12:00" "2026-11-24 16:59" "2026-11-24 17:00" \
	"2026-11-24T16:30:00Z" "2026-07-01T10:30:00Z" "2026-07-01T09:30:00Z"; do
	id=$(pa visit add --location "$loc" --theme taal --at "$at")
	parts="$parts $(q "SELECT daypart FROM visit WHERE id = '$id'")"
done
same "$parts" " ochtend middag middag avond avond middag ochtend"

t "a local --at is taken in the location's own time zone"
vny=$(pa visit add --location "$ny" --theme werk --at "2026-11-24 10:00")
same "$(q "SELECT at, daypart FROM visit WHERE id = '$vny'")" "2026-11-24T15:00:00Z|ochtend"

t "--minutes is bucketed up to 5, 15, 30, 60, 120"
got=""
for m in 1 5 6 15 16 30 31 60 61 300; do
	id=$(pa visit add --location "$loc" --theme werk --minutes $m --at "2026-11-20T10:00:00Z")
	got="$got $(q "SELECT minutes FROM question WHERE visit_id = '$id'")"
done
same "$got" " 5 5 15 15 30 30 60 60 120 120"

t "visit list --json: themes of each visit, local day and time"
late=$(pa visit add --location "$loc" --theme wonen --theme geld --at "2026-11-24T23:30:00Z")
same "$(pa visit list --json | pyj "[(r['day'], r['time'], r['themes'], r['daypart']) for r in d if r['id'] == '$late']")" \
	"[('2026-11-25', '00:30', 'geld,wonen', 'ochtend')]"

t "visit list --from/--to are local dates at the location"
same "$(pa visit list --from 2026-11-25 --to 2026-11-25 --location "$loc" --json | pyj "sorted(r['id'] for r in d if r['id'] in ('$late', '$v1'))")" \
	"['$late']"

t "visit list --location keeps that location only"
same "$(pa visit list --location "$ny" --json | pyj "[r['id'] for r in d]")" "['$vny']"

t "visit list prints a table with a header"
ok_if sh -c "'$PLEIN' -C '$A' visit list --to 2026-11-24 --location '$loc' | head -1 | grep -qE '^id +location +day +time +daypart +channel +themes'"

t "visit: unknown location";   bad 1 "no location with id 'nope'" pa visit add --location nope --theme werk
t "visit: unknown theme";      bad 1 "unknown theme 'wrek'" pa visit add --location "$loc" --theme werk --theme wrek
t "visit: unknown agency";     bad 1 "unknown agency 'belasting'" pa visit add --location "$loc" --theme werk --agency belasting
t "visit: unknown kind";       bad 1 "unknown kind of question 'vraag'" pa visit add --location "$loc" --theme werk --kind vraag
t "visit: no theme";           bad 1 "--theme" pa visit add --location "$loc"
t "visit: no location";        bad 1 "needs --location" pa visit add --theme werk
t "visit: bad channel";        bad 1 "--channel 'email' is not one of" pa visit add --location "$loc" --theme werk --channel email
t "visit: impossible date";    bad 1 "not a timestamp" pa visit add --location "$loc" --theme werk --at "2026-02-30 10:00"
t "visit: bad timestamp";      bad 1 "not a timestamp" pa visit add --location "$loc" --theme werk --at gisteren
t "visit: bad zone";           bad 1 "bad time zone" pa visit add --location "$loc" --theme werk --at "2026-11-24T10:00:00+5"
t "visit: far future";         bad 1 "in the future" pa visit add --location "$loc" --theme werk --at "2031-01-01 10:00"
t "visit: zero minutes";       bad 1 "--minutes must be a whole number" pa visit add --location "$loc" --theme werk --minutes 0
t "visit: minutes not a number"; bad 1 "--minutes must be a whole number" pa visit add --location "$loc" --theme werk --minutes 10m
t "visit: unknown partner";    bad 1 "no partner with id" pa visit add --location "$loc" --theme werk --partner nope
t "visit list: bad --from";    bad 1 "--from '2026-11-31' is not a date" pa visit list --from 2026-11-31
t "visit list: from after to"; bad 1 "is after --to" pa visit list --from 2026-11-25 --to 2026-11-24
t "visit list: unknown location"; bad 1 "no location" pa visit list --location nope

# --- referral ---------------------------------------------------------------

qid=$(q "SELECT id FROM question WHERE visit_id = '$v1' AND theme = 'werk'")
id_a=$(pa id)

# A reader holding a snapshot keeps the WAL from being checkpointed, so
# the referral's pages stay in plein.db-wal to be searched.
python3 - "$A/plein.db" "$TMP/reader.ready" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN")
c.execute("SELECT count(*) FROM referral").fetchone()
open(sys.argv[2], "w").close()
time.sleep(60)
PY
reader=$!
for _ in $(seq 1 100); do [ -e "$TMP/reader.ready" ] && break; sleep 0.1; done

t "referral add prints the new referral id alone"
r1=$(pa referral add --to "$jl" --theme juridisch --question "$qid" --follow-up 2026-11-20 \
	--contact-name "Fatima Yilmaz" --contact-phone 0612345678 --note "belt liever na 14:00")
ok_if test ${#r1} -eq 26

t "sealed: neither the name, the phone number nor the note is in plein.db-wal or plein.db"
# ... while the referral's id, written in the same transaction, is in the WAL (the search works).
if grep -a -q "$r1" "$A/plein.db-wal" && ! grep -a -q -e "Fatima Yilmaz" -e "0612345678" -e "liever na" "$A/plein.db" "$A/plein.db-wal"
then pass; else fail "the WAL lacks the referral, or holds the contact"; fi
kill "$reader" 2>/dev/null; wait "$reader" 2>/dev/null

t "sealed: not after a checkpoint either, nowhere in the site directory"
sqlite3 "$A/plein.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
if ! grep -r -a -q -e "Fatima Yilmaz" -e "0612345678" -e "liever na" "$A" && grep -a -q "$r1" "$A/plein.db"; then pass; else fail "found in $A"; fi

t "referral add: status new, no attempts, from this site, created now (UTC), sealed contact"
same "$(q "SELECT to_partner_id, theme, status, attempts, from_site, follow_up_on, substr(created_at, 1, 10),
	length(created_at), typeof(contact), hex(substr(contact, 1, 2)) FROM referral WHERE id = '$r1'")" \
	"$jl|juridisch|new|0|$id_a|2026-11-20|$(date -u +%F)|20|blob|0101"

t "the question records the referral it led to"
same "$(q "SELECT referral_id FROM question WHERE id = '$qid'")" "$r1"

t "referral show opens the contact details here"
show=$(pa referral show "$r1")
ok_if sh -c "printf '%s\n' '$show' | grep -qx 'naam: *Fatima Yilmaz' && printf '%s\n' '$show' | grep -qx 'telefoon: *0612345678' &&
	printf '%s\n' '$show' | grep -qx 'notitie: *belt liever na 14:00'"

t "referral show says only this site can read them (the partner runs no plein site)"
ok_if sh -c "printf '%s\n' '$show' | grep -qx 'contactgegevens: alleen leesbaar voor deze site: Juridisch Loket heeft geen eigen plein-site; geef de gegevens door zoals afgesproken'"

t "referral show gives partner reachability, method and attempts of the maximum"
ok_if sh -c "printf '%s\n' '$show' | grep -qx 'bereikbaar: *ma-vr 9-12' && printf '%s\n' '$show' | grep -qx 'verwijsmethode: *call' &&
	printf '%s\n' '$show' | grep -qx 'pogingen: *0 van 2' && printf '%s\n' '$show' | grep -qx 'partner: *Juridisch Loket'"

t "referral show --json: every field and the opened contact"
same "$(pa referral show "$r1" --json | pyj "(d['id'], d['status'], d['partner'], d['partner_reachable'], d['referral_method'], d['attempts'], d['max_attempts'], d['question_id'], d['from_site'], d['has_contact'], d['contact_readable'], d['contact'])")" \
	"('$r1', 'new', 'Juridisch Loket', 'ma-vr 9-12', 'call', 0, 2, '$qid', '$id_a', True, True, {'name': 'Fatima Yilmaz', 'phone': '0612345678', 'email': None, 'note': 'belt liever na 14:00'})"

t "another site that holds the row cannot read the contact details"
new_site b
sqlite3 "$TMP/b/plein.db" "ATTACH '$A/plein.db' AS a; INSERT INTO referral SELECT * FROM a.referral WHERE id = '$r1'; INSERT INTO partner SELECT * FROM a.partner"
showb=$(plein -C "$TMP/b" referral show "$r1")
ok_if sh -c "printf '%s\n' '$showb' | grep -qx 'contactgegevens: versleuteld, alleen leesbaar voor de verwijzende site $id_a' && ! printf '%s\n' '$showb' | grep -q Fatima"

t "... and its JSON has contact null, contact_readable false"
same "$(plein -C "$TMP/b" referral show "$r1" --json | pyj "(d['contact'], d['contact_readable'], d['has_contact'], len(d['sealed_for']))")" \
	"(None, False, True, 1)"

t "damaged sealed data is reported, not shown"
sqlite3 "$TMP/b/plein.db" "INSERT INTO referral(id, status, contact) VALUES ('damaged', 'new', X'0102DEADBEEF')"
same "$(plein -C "$TMP/b" referral show damaged | grep '^contactgegevens') $(plein -C "$TMP/b" referral show damaged --json | pyj "(d['contact_readable'], d['sealed_for'])")" \
	"contactgegevens: versleuteld, maar beschadigd of in een onbekend formaat; niemand kan ze openen (False, [])"

t "a referral without contact options stores no contact"
r2=$(pa referral add --to "$th" --theme taal)
same "$(q "SELECT typeof(contact), status, follow_up_on IS NULL, question_id IS NULL FROM referral WHERE id = '$r2'")" "null|new|1|1"

t "referral show without contact says so"
ok_if sh -c "'$PLEIN' -C '$A' referral show '$r2' | grep -qx 'contactgegevens: geen'"

# A partner that runs its own plein site (site b): sealed to b as well,
# once b's full key is on this site's roster.
id_b=$(plein -C "$TMP/b" id)
pb=$(pa partner add --name "Formulierenbrigade" --site "$id_b")

t "partner site key not known here: sealed to this site only, and show says so"
r3=$(pa referral add --to "$pb" --theme geld --contact-email fatima@example.nl)
same "$(pa referral show "$r3" | grep '^contactgegevens')" \
	"contactgegevens: alleen leesbaar voor deze site: de sleutel van de site van Formulierenbrigade ($id_b) is hier nog niet bekend, dus Formulierenbrigade kan ze niet lezen"

pk_b=$(plein -C "$TMP/b" id --key)
t "the coordinator admits the partner's site with its full key"
ok_if pa admit "$id_b" --key "$pk_b" --name "Formulierenbrigade" --role partner
r4=$(pa referral add --to "$pb" --theme geld --contact-name "Fatima Yilmaz" --contact-phone "+31 6 12345678")

t "partner site key on the roster: sealed to both sites"
same "$(pa referral show "$r4" | grep '^contactgegevens')" \
	"contactgegevens: leesbaar voor deze site ($id_a) en Formulierenbrigade (site $id_b)"

t "the partner's site opens it"
sqlite3 "$TMP/b/plein.db" "ATTACH '$A/plein.db' AS a; INSERT INTO referral SELECT * FROM a.referral WHERE id = '$r4'; INSERT INTO partner SELECT * FROM a.partner WHERE id = '$pb'"
same "$(plein -C "$TMP/b" referral show "$r4" --json | pyj "(d['contact_readable'], d['contact']['name'], d['contact']['phone'])")" \
	"(True, 'Fatima Yilmaz', '+31 6 12345678')"

t "a third site does not, and is told who can"
new_site c
sqlite3 "$TMP/c/plein.db" "ATTACH '$A/plein.db' AS a; INSERT INTO referral SELECT * FROM a.referral WHERE id = '$r4'; INSERT INTO partner SELECT * FROM a.partner WHERE id = '$pb'"
ok_if sh -c "'$PLEIN' -C '$TMP/c' referral show '$r4' | grep -qE '^contactgegevens: versleuteld, alleen leesbaar voor de verwijzende site $id_a en een andere site \(sleutel [0-9a-f]{16}\)$'"

t "referral set moves the status forward"
pa referral set "$r1" --status contacted
same "$(q "SELECT status, closed_at IS NULL FROM referral WHERE id = '$r1'")" "contacted|1"

t "referral set cannot go back"
bad 1 "is at 'contacted' and cannot go back to 'new'" pa referral set "$r1" --status new

t "referral attempt counts one more and prints the count"
same "$(pa referral attempt "$r1" 2>&1)" "1"

t "at the partner's max_attempts it hints at 'unreachable' on stderr"
out=$(pa referral attempt "$r1" 2>"$TMP/hint")
ok_if sh -c "test '$out' = 2 && grep -q 'plein referral set $r1 --status unreachable' '$TMP/hint' && test \$(wc -l < '$TMP/hint') -eq 1"

t "attempts are stored"
same "$(q "SELECT attempts FROM referral WHERE id = '$r1'")" "2"

t "an end state sets closed_at and the outcome"
pa referral set "$r1" --status done --outcome "afspraak gehad"
same "$(q "SELECT status, outcome, length(closed_at), substr(closed_at, 1, 10) FROM referral WHERE id = '$r1'")" \
	"done|afspraak gehad|20|$(date -u +%F)"

t "a closed referral cannot move to another state"
bad 1 "closed as 'done'; a closed referral cannot become 'contacted'" pa referral set "$r1" --status contacted

t "nor to another end state"
bad 1 "closed as 'done'" pa referral set "$r1" --status declined

t "its outcome may still be corrected; closed_at stays"
closed=$(q "SELECT closed_at FROM referral WHERE id = '$r1'")
sleep 1
pa referral set "$r1" --status done --outcome "geholpen"
same "$(q "SELECT outcome, closed_at FROM referral WHERE id = '$r1'")" "geholpen|$closed"

t "no attempts on a closed referral"
bad 1 "closed as 'done'" pa referral attempt "$r1"

t "referral list shows partner, theme, status, attempts, follow-up, created"
same "$(pa referral list --json | pyj "[(r['partner'], r['theme'], r['status'], r['attempts'], r['follow_up_on'], r['created'][:10]) for r in d if r['id'] == '$r1']")" \
	"[('Juridisch Loket', 'juridisch', 'done', 2, '2026-11-20', '$(date -u +%F)')]"

t "referral list --open leaves out the closed ones"
r5=$(pa referral add --to "$th" --theme taal --follow-up "$today")
r6=$(pa referral add --to "$th" --theme taal --follow-up 2099-01-01)
r7=$(pa referral add --to "$th" --theme werk --follow-up 2026-01-05)
pa referral set "$r7" --status declined
same "$(pa referral list --open --json | pyj "sorted(r['id'] for r in d)")" \
	"$(printf '%s\n' "$r2" "$r3" "$r5" "$r6" ${r4:+"$r4"} | sort | python3 -c "import sys; print(sorted(sys.stdin.read().split()))")"

t "referral list --due: open, follow-up date today or earlier"
same "$(pa referral list --due --json | pyj "[r['id'] for r in d]")" "['$r5']"

t "referral list prints a table with a header"
ok_if sh -c "'$PLEIN' -C '$A' referral list | head -1 | grep -qE '^id +partner +theme +status +attempts +follow_up_on +created'"

t "referral: unknown partner";   bad 1 "no partner with id 'nope'" pa referral add --to nope --theme werk
t "referral: unknown theme";     bad 1 "unknown theme 'recht'" pa referral add --to "$jl" --theme recht
t "referral: no theme";          bad 1 "needs --theme" pa referral add --to "$jl"
t "referral: impossible date";   bad 1 "--follow-up '2026-02-30' is not a date" pa referral add --to "$jl" --theme werk --follow-up 2026-02-30
t "referral: bad phone";         bad 1 "is not a phone number" pa referral add --to "$jl" --theme werk --contact-phone "bel maar"
t "referral: bad email";         bad 1 "is not an e-mail address" pa referral add --to "$jl" --theme werk --contact-email "fatima@"
t "referral: empty name";        bad 1 "--contact-name is empty" pa referral add --to "$jl" --theme werk --contact-name ""
t "referral: unknown question";  bad 1 "no question with id 'nope'" pa referral add --to "$jl" --theme werk --question nope
t "referral: unknown offering";  bad 1 "no offering with id 'nope'" pa referral add --to "$jl" --theme werk --offering nope
off_th=$(pa offering add --partner "$th" --theme taal --kind oefengroep --title "Taalcafé" --capacity 2 --signup)
t "referral: offering of another partner"; bad 1 "is not offered by partner" pa referral add --to "$jl" --theme taal --offering "$off_th"
t "referral: bad status";        bad 1 "--status 'finished' is not one of" pa referral set "$r2" --status finished
t "referral: set unknown id";    bad 1 "no referral with id 'nope'" pa referral set nope --status done
t "referral: attempt unknown id"; bad 1 "no referral with id 'nope'" pa referral attempt nope
t "referral: show unknown id";   bad 1 "no referral with id 'nope'" pa referral show nope
t "referral: bad outcome";       bad 1 "--outcome is empty" pa referral set "$r2" --status contacted --outcome ""

t "referral add with an offering of that partner"
r8=$(pa referral add --to "$th" --theme taal --offering "$off_th")
same "$(q "SELECT to_offering_id FROM referral WHERE id = '$r8'")" "$off_th"

# --- sign-ups ---------------------------------------------------------------

rule=$(pa rule add --offering "$off_th" --location "$loc" --rrule "FREQ=WEEKLY;BYDAY=TU" --start 14:00 --end 16:00 --from 2026-11-03)

t "signup add books while places are free, then waitlists"
s1=$(pa signup add --rule "$rule" --date 2026-12-08 --who "Anna de Vries")
s2=$(pa signup add --rule "$rule" --date 2026-12-08 --who "Bram Jansen")
s3=$(pa signup add --rule "$rule" --date 2026-12-08 --who "Chaima El Idrissi")
s4=$(pa signup add --rule "$rule" --date 2026-12-08)
same "$(q "SELECT group_concat(status, ' ') FROM (SELECT status FROM signup WHERE rule_id = '$rule' ORDER BY created_at, id)")" \
	"booked booked waitlisted waitlisted"

t "signup add prints the id alone; who is sealed, created_at is UTC"
same "$(q "SELECT id, occurrence_date, typeof(who), length(created_at) FROM signup WHERE id = '$s1'")" "$s1|2026-12-08|blob|20"

t "sealed: participant names are not in the database files"
sqlite3 "$A/plein.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
if ! grep -r -a -q -e "Anna de Vries" -e "Chaima" "$A"; then pass; else fail "a name is readable in $A"; fi

t "signup list: booking order, waitlist positions, names opened"
same "$(pa signup list --rule "$rule" --date 2026-12-08 --json | pyj "[(r['id'], r['status'], r['position'], r['who']) for r in d]")" \
	"[('$s1', 'booked', None, 'Anna de Vries'), ('$s2', 'booked', None, 'Bram Jansen'), ('$s3', 'waitlisted', 1, 'Chaima El Idrissi'), ('$s4', 'waitlisted', 2, None)]"

t "signup list prints a table with a header"
ok_if sh -c "'$PLEIN' -C '$A' signup list --rule '$rule' --date 2026-12-08 | head -1 | grep -qE '^id +status +position +who +created_at'"

t "another date of the rule has its own places"
s5=$(pa signup add --rule "$rule" --date 2026-12-15)
same "$(q "SELECT status FROM signup WHERE id = '$s5'")" "booked"

t "cancelling a booked place moves the first of the waitlist up"
out=$(pa signup set "$s1" --status cancelled)
same "$(pa signup list --rule "$rule" --date 2026-12-08 --json | pyj "' '.join(r['status'] for r in d)") / $out" \
	"booked booked waitlisted cancelled / $s3: van de wachtlijst naar geboekt"

t "moving up is derived, not written: only the cancellation was stored"
same "$(q "SELECT group_concat(status, ' ') FROM (SELECT status FROM signup WHERE rule_id = '$rule' AND occurrence_date = '2026-12-08' ORDER BY created_at, id)")" \
	"cancelled booked waitlisted waitlisted"

t "signup list notes who moved up from the waitlist"
same "$(pa signup list --rule "$rule" --date 2026-12-08 --json | pyj "[(r['id'], r['place'], r['note']) for r in d]")" \
	"[('$s2', 1, None), ('$s3', 2, 'moved_up'), ('$s4', 3, None), ('$s1', None, None)]"

t "the waitlist position follows"
same "$(pa signup list --rule "$rule" --date 2026-12-08 --json | pyj "[(r['id'], r['position']) for r in d if r['status'] == 'waitlisted']")" "[('$s4', 1)]"

t "re-booking a cancelled place when full is refused"
bad 1 "is full \(2 of 2 places, and others are on the waitlist\)" pa signup set "$s1" --status booked

t "a waitlisted sign-up cannot be booked past the queue"
bad 1 "is number 1 on the waitlist of rule" pa signup set "$s4" --status booked

t "attended and no_show keep their place: cancelling a waitlisted one moves nobody"
pa signup set "$s2" --status attended && pa signup set "$s3" --status no_show && pa signup set "$s4" --status cancelled
same "$(q "SELECT group_concat(status, ' ') FROM (SELECT status FROM signup WHERE rule_id = '$rule' AND occurrence_date = '2026-12-08' ORDER BY created_at, id)")" \
	"cancelled attended no_show cancelled"

t "booking again after a cancellation queues anew, behind those who waited"
s6=$(pa signup add --rule "$rule" --date 2026-12-15)
s7=$(pa signup add --rule "$rule" --date 2026-12-15)
pa signup set "$s5" --status cancelled >/dev/null && pa signup set "$s6" --status cancelled >/dev/null
pa signup set "$s5" --status booked
same "$(pa signup list --rule "$rule" --date 2026-12-15 --json | pyj "[(r['id'], r['status'], r['place']) for r in d]")" \
	"[('$s7', 'booked', 1), ('$s5', 'booked', 2), ('$s6', 'cancelled', None)]"

t "a cancelled occurrence takes no sign-ups"
if pa rule cancel "$rule" --date 2026-12-22 --reason Kerstvakantie >/dev/null 2>&1; then
	bad 1 "does not take place \(Kerstvakantie\)" pa signup add --rule "$rule" --date 2026-12-22
else
	fail "'plein rule cancel' failed"
fi

t "signup: not a date of the rule"; bad 1 "2026-12-09 is not a date of rule" pa signup add --rule "$rule" --date 2026-12-09
t "signup: impossible date";     bad 1 "--date '2026-02-30' is not a date" pa signup add --rule "$rule" --date 2026-02-30
t "signup: unknown rule";        bad 1 "no rule with id 'nope'" pa signup add --rule nope --date 2026-12-08
t "signup: empty who";           bad 1 "--who is empty" pa signup add --rule "$rule" --date 2026-12-08 --who ""
t "signup: bad status";          bad 1 "--status 'gone' is not one of" pa signup set "$s2" --status gone
t "signup: waitlisted is not settable"; bad 1 "--status 'waitlisted' is not one of" pa signup set "$s2" --status waitlisted
t "signup: set unknown id";      bad 1 "no sign-up with id 'nope'" pa signup set nope --status cancelled
t "signup list: unknown rule";   bad 1 "no rule with id 'nope'" pa signup list --rule nope --date 2026-12-08
t "signup list: bad date";       bad 1 "is not a date" pa signup list --rule "$rule" --date 08-12-2026

# --- day log ----------------------------------------------------------------

t "daylog add prints the id; the day defaults to today"
d1=$(pa daylog add --location "$loc" --author "Petra (balie)" "Druk met belastingvragen; printer stuk")
same "$(q "SELECT location_id, day, author, text FROM daylog WHERE id = '$d1'")" \
	"$loc|$today|Petra (balie)|Druk met belastingvragen; printer stuk"

t "daylog add --day"
d2=$(pa daylog add --location "$ny" --day 2026-11-20 "Overdracht: sleutel bij de wijkagent")
same "$(q "SELECT day, author IS NULL FROM daylog WHERE id = '$d2'")" "2026-11-20|1"

t "daylog list --day"
same "$(pa daylog list --day 2026-11-20 --json | pyj "[(r['id'], r['day'], r['location'], r['text']) for r in d]")" \
	"[('$d2', '2026-11-20', 'Mobiel New York', 'Overdracht: sleutel bij de wijkagent')]"

t "daylog list --location, and all days without --day"
same "$(pa daylog list --location "$loc" --json | pyj "[r['id'] for r in d]") $(pa daylog list --json | pyj "len(d)")" "['$d1'] 2"

t "daylog: empty text";        bad 1 "text is empty" pa daylog add --location "$loc" ""
t "daylog: blank text";        bad 1 "text is empty" pa daylog add --location "$loc" "   "
t "daylog: no text";           bad 1 "missing arguments" pa daylog add --location "$loc"
t "daylog: text too long";     bad 1 "longer than 4000 bytes" pa daylog add --location "$loc" "$(head -c 4001 /dev/zero | tr '\0' x)"
t "daylog: unknown location";  bad 1 "no location with id 'nope'" pa daylog add --location nope "tekst"
t "daylog: impossible day";    bad 1 "--day '2026-11-31' is not a date" pa daylog add --location "$loc" --day 2026-11-31 "tekst"
t "daylog list: bad day";      bad 1 "is not a date" pa daylog list --day morgen
t "daylog list: unknown location"; bad 1 "no location" pa daylog list --location nope

t "4000 bytes of text is accepted"
d3=$(pa daylog add --location "$loc" "$(head -c 4000 /dev/zero | tr '\0' x)")
same "$(q "SELECT length(text) FROM daylog WHERE id = '$d3'")" "4000"

done_testing
