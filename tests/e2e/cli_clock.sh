#!/usr/bin/env bash
# The one test clock (docs/test-clock.md): with PLEIN_NOW set, every
# "now" and "today" plein reads is that moment: the schedule's week, the
# day log, the board and the folder, a visit's time, a referral's date,
# --due; the clocks of the log are not moved; a bad value is refused.
. "$(dirname "$0")/lib.sh"
pyj() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
same() { if [ "$1" = "$2" ]; then pass; else fail "got '$1', expected '$2'"; fi; }

start=$(date +%s)
new_site s
P() { "$PLEIN" -C "$TMP/s" "$@"; }
L=$(P location add --name Centrum --kind branch)
PA=$(P partner add --name Taalhuis)
O=$(P offering add --partner "$PA" --theme taal --kind spreekuur --title "Taalcafé")
P rule add --offering "$O" --location "$L" --rrule "FREQ=WEEKLY;BYDAY=TU" --start 13:00 --end 15:00 --from 2026-01-01 >/dev/null
# Tuesday 24 November 2026, 13:45 in Amsterdam.
export PLEIN_NOW=2026-11-24T12:45:00Z

t "the schedule's default period is the week of PLEIN_NOW"
same "$(P schedule --json)" "$(P schedule --from 2026-11-23 --to 2026-11-29 --json)"

t "the board shows PLEIN_NOW, and the folder its week"
ok_if sh -c "test \"\$('$PLEIN' -C '$TMP/s' board --location '$L')\" = \"\$('$PLEIN' -C '$TMP/s' board --location '$L' --at '2026-11-24 13:45')\" &&
	test \"\$('$PLEIN' -C '$TMP/s' folder --location '$L')\" = \"\$('$PLEIN' -C '$TMP/s' folder --location '$L' --week 2026-W48)\""

t "a day-log entry is for that day"
P daylog add --location "$L" "rustige dag" >/dev/null
same "$(P daylog list --day 2026-11-24 --json | pyj "[e['text'] for e in d]")" "['rustige dag']"

t "a visit happens then, and 'a day in the future' counts from it"
P visit add --location "$L" --theme taal >/dev/null
same "$(P visit list --json | pyj "[v['at'] for v in d]")" "['2026-11-24T12:45:00Z']"
t "... and a visit more than a day after PLEIN_NOW is refused"
expect_fail 1 "more than a day in the future" plein -C "$TMP/s" visit add --location "$L" --theme taal --at "2026-11-26 09:00"

t "a referral is made that day, and is due by its follow-up date then"
R=$(P referral add --to "$PA" --theme taal --follow-up 2026-11-24)
same "$(P referral list --due --json | pyj "[(r['id'], r['created'], r['due']) for r in d]")" "[('$R', '2026-11-24T12:45:00Z', 'follow_up')]"

t "the clocks of the log stay real: the last change is not dated PLEIN_NOW"
hlc_s=$(sqlite3 "$TMP/s/plein.db" "SELECT (hlc >> 16) / 1000 FROM plein_clock WHERE id = 1")
ok_if test "$hlc_s" -ge "$start" -a "$hlc_s" -le "$(date +%s)"

t "a bad PLEIN_NOW is refused by every command, with the forms it takes"
expect_fail 1 "PLEIN_NOW='2026-02-30' is not a time; write YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or seconds since 1970" \
	env PLEIN_NOW=2026-02-30 "$PLEIN" -C "$TMP/s" status

done_testing
