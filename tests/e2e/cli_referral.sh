#!/usr/bin/env bash
# The referral lifecycle at one site (docs/referral.md): every status
# change is kept, whoever writes it (plein or a plain sqlite3 shell), with
# the site and the staff member; closing stamps closed_at; the history is
# insert-only; list shows the partner's reachability and method; --due
# lists what needs looking at (follow-up date, or no movement for
# referral.stale_days days); the hint at the agreed number of attempts.
. "$(dirname "$0")/lib.sh"

A="$TMP/a"
pa() { plein -C "$A" "$@"; }
q() { sqlite3 "$A/plein.db" "$@"; }
pyj() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
same() { if [ "$1" = "$2" ]; then pass; else fail "got '$1', expected '$2'"; fi; }
day() { TZ=Europe/Amsterdam date -d "$1 days" +%F; }

new_site a
id_a=$(pa id)
jl=$(pa partner add --name "Juridisch Loket" --referral-method call --reachable "ma-vr 9-12" --max-attempts 2)
th=$(pa partner add --name "Taalhuis" --referral-method walk_in --reachable "do 13-16")

t "creating a referral is the first event of its history: from nothing to new, by this site and staff member"
r1=$(pa referral add --to "$jl" --theme juridisch --by "Petra (balie)")
same "$(pa referral show "$r1" --json | pyj "[(e['site_id'], e['staff'], e['from'], e['to']) for e in d['history']]")" \
	"[('$id_a', 'Petra (balie)', None, 'new')]"

t "each status change adds one event (from, to, who, when in UTC)"
pa referral set "$r1" --status contacted --by "Petra (balie)"
pa referral set "$r1" --status appointment
same "$(pa referral show "$r1" --json | pyj "[(e['from'], e['to'], e['staff']) for e in d['history']]")" \
	"[(None, 'new', 'Petra (balie)'), ('new', 'contacted', 'Petra (balie)'), ('contacted', 'appointment', None)]"

t "event times are ISO 8601 UTC with milliseconds, and the site is named"
ok_if sh -c "'$PLEIN' -C '$A' referral show '$r1' --json | python3 -c \"
import json, sys, re
d = json.load(sys.stdin)
assert all(re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z', e['at']) for e in d['history'])
assert all(e['site_id'] == '$id_a' and e['site'] for e in d['history'])
\""

t "an outcome alone is no status change: no event"
pa referral set "$r1" --status appointment --outcome "afspraak di 10:00"
same "$(q "SELECT count(*) FROM referral_event WHERE referral_id = '$r1'")" "3"

t "the staff name is only kept for the change it was given for"
same "$(q "SELECT count(*) FROM plein_local WHERE key = 'staff'")" "0"

t "a change made in the sqlite3 shell is kept too, by this site, and sealed"
r2=$(pa referral add --to "$th" --theme taal)
q "UPDATE referral SET status = 'contacted' WHERE id = '$r2'"
pa status >/dev/null
same "$(pa referral show "$r2" --json | pyj "[(e['site_id'], e['from'], e['to']) for e in d['history']]") $(pa status --json | pyj "d['unsealed_changes']")" \
	"[('$id_a', None, 'new'), ('$id_a', 'new', 'contacted')] 0"

t "closing in the shell stamps closed_at, as plein does"
q "UPDATE referral SET status = 'declined' WHERE id = '$r2'"
same "$(q "SELECT status, length(closed_at), substr(closed_at, 1, 10) FROM referral WHERE id = '$r2'")" "declined|20|$(date -u +%F)"

t "closing through plein stamps closed_at once"
pa referral set "$r1" --status done
c1=$(q "SELECT closed_at FROM referral WHERE id = '$r1'")
pa referral set "$r1" --status done --outcome "geholpen"
same "$(q "SELECT length(closed_at), closed_at FROM referral WHERE id = '$r1'")" "20|$c1"

t "the history cannot be changed or deleted"
if ! q "UPDATE referral_event SET to_status = 'new' WHERE referral_id = '$r1'" 2>err.txt && grep -q "never changed" err.txt &&
   ! q "DELETE FROM referral_event WHERE referral_id = '$r1'" 2>err.txt && grep -q "never deleted" err.txt &&
   [ "$(q "SELECT count(*) FROM referral_event WHERE referral_id = '$r1'")" = 4 ]; then pass; else fail "$(cat err.txt)"; fi

t "show prints the history for people"
out=$(pa referral show "$r1")
if echo "$out" | grep -q '^geschiedenis:$' && echo "$out" | grep -qE '^  [0-9-]{10}T[0-9:]{8}  \(nieuw\) +-> new +a, Petra \(balie\)$' &&
   echo "$out" | grep -qE '^  .* appointment +-> done +a$'; then pass; else fail "$out"; fi

t "list shows the partner's reachability and referral method"
same "$(pa referral list --json | pyj "[(r['partner'], r['reachable'], r['method']) for r in d if r['id'] == '$r1']")" \
	"[('Juridisch Loket', 'ma-vr 9-12', 'call')]"

t "list prints reachability, method, movement and due after the old columns"
ok_if sh -c "'$PLEIN' -C '$A' referral list | head -1 | grep -qE '^id +partner +theme +status +attempts +follow_up_on +created +reachable +method +moved +due$'"

# --- attempts and the hint -------------------------------------------------
r3=$(pa referral add --to "$jl" --theme werk)

t "below the agreed attempts: no hint"
pa referral attempt "$r3" >/dev/null 2>hint.txt
ok_if sh -c "test ! -s hint.txt && ! '$PLEIN' -C '$A' referral show '$r3' | grep -q '^advies:' && test \"\$('$PLEIN' -C '$A' referral show '$r3' --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"suggest\"])')\" = None"

t "at the agreed attempts, attempt hints on stderr and show says it in one line"
out=$(pa referral attempt "$r3" 2>hint.txt)
if [ "$out" = 2 ] && [ "$(wc -l < hint.txt)" = 1 ] && grep -q "plein referral set $r3 --status unreachable" hint.txt &&
   [ "$(pa referral show "$r3" | grep -c '^advies: .*2 afgesproken pogingen.*plein referral set '"$r3"' --status unreachable$')" = 1 ] &&
   [ "$(pa referral show "$r3" --json | pyj "d['suggest']")" = unreachable ]; then pass; else fail "$out / $(cat hint.txt)"; fi

t "a closed referral gets no hint"
pa referral set "$r3" --status unreachable
same "$(pa referral show "$r3" --json | pyj "(d['suggest'], d['status'], d['closed_at'] is not None)")" "(None, 'unreachable', True)"

# --- --due ----------------------------------------------------------------
rf=$(pa referral add --to "$th" --theme taal --follow-up "$(day -1)")    # follow-up yesterday
rt=$(pa referral add --to "$th" --theme taal --follow-up "$(day 0)")     # today
rl=$(pa referral add --to "$th" --theme taal --follow-up "$(day 3)")     # later
rn=$(pa referral add --to "$th" --theme werk)                            # no follow-up date
rc=$(pa referral add --to "$th" --theme werk --follow-up "$(day -2)")
pa referral set "$rc" --status done                                       # closed: never due

t "--due today: follow-up date today or earlier, open ones only, oldest date first"
same "$(pa referral list --due --json | pyj "[(r['id'], r['due']) for r in d]")" \
	"[('$rf', 'follow_up'), ('$rt', 'follow_up')]"

t "--due in 3 days (PLEIN_NOW): the later one too, nothing stale yet"
same "$(PLEIN_NOW=$(day 3) plein -C "$A" referral list --due --json | pyj "[(r['id'], r['due']) for r in d]")" \
	"[('$rf', 'follow_up'), ('$rt', 'follow_up'), ('$rl', 'follow_up')]"

t "--due after 7 days without a status change (the default): every open referral, stale or by date"
got=$(PLEIN_NOW=$(day 7) plein -C "$A" referral list --due --json | pyj "sorted((r['id'], r['due']) for r in d)")
same "$got" "$(python3 -c "print(sorted([('$rf', 'follow_up'), ('$rt', 'follow_up'), ('$rl', 'follow_up'), ('$rn', 'stale')]))")"

t "a status change is movement: a referral that moved recently is not stale"
# As another site's change would arrive: a history row of 3 days from now.
q "INSERT INTO referral_event(id, referral_id, at, site_id, from_status, to_status) VALUES ('ev-later', '$rn', '$(day 3)T09:00:00.000Z', '$id_a', 'new', 'new')"
same "$(PLEIN_NOW=$(day 7) plein -C "$A" referral list --due --json | pyj "[r['id'] for r in d if r['due'] == 'stale']") $(PLEIN_NOW=$(day 10) plein -C "$A" referral list --due --json | pyj "[r['id'] for r in d if r['due'] == 'stale']")" \
	"[] ['$rn']"

t "referral.stale_days in plein.conf sets the period; 0 turns it off"
printf '\n[referral]\nstale_days = 30\n' >> "$A/plein.conf"
s30=$(PLEIN_NOW=$(day 29) plein -C "$A" referral list --due --json | pyj "[r['id'] for r in d if r['due'] == 'stale']")
s30b=$(PLEIN_NOW=$(day 33) plein -C "$A" referral list --due --json | pyj "[r['id'] for r in d if r['due'] == 'stale']")
sed -i 's/^stale_days = 30$/stale_days = 0/' "$A/plein.conf"
s0=$(PLEIN_NOW=$(day 400) plein -C "$A" referral list --due --json | pyj "[r['id'] for r in d if r['due'] == 'stale']")
same "$s30 $s30b $s0" "[] ['$rn'] []"

t "a bad referral.stale_days is refused with the file to fix"
sed -i 's/^stale_days = 0$/stale_days = een week/' "$A/plein.conf"
expect_fail 1 "referral.stale_days = 'een week' is not a number of days.*plein.conf" plein -C "$A" referral list --due
sed -i '/^stale_days/d' "$A/plein.conf"

t "a bad PLEIN_NOW is refused, not read as the real clock"
expect_fail 1 "PLEIN_NOW='morgen' is not a time; write YYYY-MM-DD" env PLEIN_NOW=morgen "$PLEIN" -C "$A" referral list --due

t "the old PLEIN_TODAY is refused with the name that replaced it"
expect_fail 1 "PLEIN_TODAY is no longer read; set the test clock with PLEIN_NOW" env PLEIN_TODAY="$(day 3)" "$PLEIN" -C "$A" referral list --due

t "without --due every referral is listed, the due reason beside the open ones"
same "$(PLEIN_NOW=$(day 0) plein -C "$A" referral list --json | pyj "[(r['due']) for r in d if r['id'] in ('$rf', '$rc', '$rl')]")" \
	"['follow_up', None, None]"

t "--by: an empty or too long name is refused, nothing changes"
expect_fail 1 "--by is empty" plein -C "$A" referral set "$rl" --status contacted --by ""
same "$(q "SELECT status FROM referral WHERE id = '$rl'")" "new"

done_testing
