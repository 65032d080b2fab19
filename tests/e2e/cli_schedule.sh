#!/usr/bin/env bash
# The schedule from the command line: rule add, cancel, move, and
# 'plein schedule' over a period with a cancelled date, a moved date and
# the end of summer time; then every bad input, which changes nothing.
. "$(dirname "$0")/lib.sh"

new_site s
P() { "$PLEIN" -C "$TMP/s" "$@"; }

centrum=$(P location add --name Centrum --kind branch)
bron=$(P location add --name "Wijkgebouw De Bron" --kind community)
fb=$(P partner add --name Formulierenbrigade)
th=$(P partner add --name Taalhuis)
spreekuur=$(P offering add --partner "$fb" --theme geld --kind spreekuur --title "Spreekuur belastingaangifte")
taalcafe=$(P offering add --partner "$th" --theme taal --kind oefengroep --title "Taalcafé" --capacity 8)

# One line per occurrence of a --json listing, for exact comparison.
lines() {
	python3 -c '
import json, sys
for o in json.load(sys.stdin):
    print(" ".join(str(o[k]) for k in ("date", "start", "end", "start_utc", "end_utc", "status", "original_date",
                                        "title", "partner", "location", "room", "reason", "capacity")))
'
}

t "rule add prints the new id alone"
tue=$(P rule add --offering "$spreekuur" --location "$centrum" --rrule "FREQ=WEEKLY;BYDAY=TU" \
	--start 13:30 --end 16:00 --from 2026-10-01 --room leeshoek)
ok_if test "${#tue}" -eq 26 -a "$(printf '%s\n' "$tue" | wc -l)" -eq 1

t "a second rule, on Sundays, lower-case rrule accepted"
sun=$(P rule add --offering "$taalcafe" --location "$centrum" --rrule "freq=weekly;byday=su" \
	--start 10:00 --end 12:00 --from 2026-10-01 --until 2026-12-31)
ok_if test "${#sun}" -eq 26

t "the rule is stored with its canonical rrule and dates"
ok_if test "$(sqlite3 s/plein.db "SELECT rrule, valid_from, valid_to, room FROM schedule_rule WHERE id = '$sun'")" = \
	"FREQ=WEEKLY;BYDAY=SU|2026-10-01|2026-12-31|"

t "rule cancel prints the exception id"
cancel=$(P rule cancel "$tue" --date 2026-10-20 --reason Herfstvakantie)
ok_if test "${#cancel}" -eq 26

t "rule move prints the exception id"
move=$(P rule move "$tue" --date 2026-10-27 --to 2026-10-29 --start 09:00 --end 11:00 --location "$bron" --reason Verbouwing)
ok_if test "${#move}" -eq 26 -a "$move" != "$cancel"

t "the exceptions are stored as domain.md says"
ok_if test "$(sqlite3 s/plein.db "SELECT original_date, action, new_start, new_end, new_location_id, reason FROM schedule_exception ORDER BY original_date")" = \
"2026-10-20|cancel||||Herfstvakantie
2026-10-27|move|2026-10-29 09:00|2026-10-29 11:00|$bron|Verbouwing"

t "schedule --json: cancelled, moved, and local time kept across 25 October"
got=$(P schedule --from 2026-10-18 --to 2026-11-01 --json | lines)
want="2026-10-18 10:00 12:00 2026-10-18T08:00:00Z 2026-10-18T10:00:00Z gepland 2026-10-18 Taalcafé Taalhuis Centrum None None 8
2026-10-20 13:30 16:00 2026-10-20T11:30:00Z 2026-10-20T14:00:00Z vervalt 2026-10-20 Spreekuur belastingaangifte Formulierenbrigade Centrum leeshoek Herfstvakantie None
2026-10-25 10:00 12:00 2026-10-25T09:00:00Z 2026-10-25T11:00:00Z gepland 2026-10-25 Taalcafé Taalhuis Centrum None None 8
2026-10-29 09:00 11:00 2026-10-29T08:00:00Z 2026-10-29T10:00:00Z verplaatst 2026-10-27 Spreekuur belastingaangifte Formulierenbrigade Wijkgebouw De Bron None Verbouwing None
2026-11-01 10:00 12:00 2026-11-01T09:00:00Z 2026-11-01T11:00:00Z gepland 2026-11-01 Taalcafé Taalhuis Centrum None None 8"
if [ "$got" = "$want" ]; then pass; else fail "got:
$got"; fi

t "schedule --json carries the identity and ids of every occurrence"
ok_if python3 -c "
import json, sys
occ = json.loads(sys.argv[1])
m = [o for o in occ if o['status'] == 'verplaatst'][0]
assert m['rule_id'] == '$tue' and m['location_id'] == '$bron' and m['kind'] == 'spreekuur' and m['theme'] == 'geld'
assert all(o['rule_id'] in ('$tue', '$sun') for o in occ) and len(occ) == 5
" "$(P schedule --from 2026-10-18 --to 2026-11-01 --json)"

t "schedule --location lists where the occurrence takes place"
got=$(P schedule --location "$bron" --from 2026-10-18 --to 2026-11-01 --json | lines | cut -d' ' -f1,6,7)
ok_if test "$got" = "2026-10-29 verplaatst 2026-10-27"

t "the moved date is not listed on its original day"
ok_if test "$(P schedule --from 2026-10-27 --to 2026-10-27 --json)" = "[]"

t "a move into the period from outside it is listed"
P rule move "$tue" --date 2026-11-10 --to 2026-11-05 --start 13:30 --end 16:00 >/dev/null
got=$(P schedule --from 2026-11-02 --to 2026-11-08 --json | lines | cut -d' ' -f1,4,6,7)
ok_if test "$got" = "2026-11-03 2026-11-03T12:30:00Z gepland 2026-11-03
2026-11-05 2026-11-05T12:30:00Z verplaatst 2026-11-10
2026-11-08 2026-11-08T09:00:00Z gepland 2026-11-08"

t "human output: Dutch days, one line per hour, cancelled and moved marked"
got=$(P schedule --from 2026-10-19 --to 2026-10-29)
want="dinsdag 20 oktober 2026
13:30-16:00  Spreekuur belastingaangifte  Formulierenbrigade  (Centrum, leeshoek)  vervalt: Herfstvakantie

zondag 25 oktober 2026
10:00-12:00  Taalcafé  Taalhuis  (Centrum)

donderdag 29 oktober 2026
09:00-11:00  Spreekuur belastingaangifte  Formulierenbrigade  (Wijkgebouw De Bron)  verplaatst van dinsdag 27 oktober: Verbouwing"
if [ "$got" = "$want" ]; then pass; else fail "got:
$got"; fi

t "an empty period says so"
ok_if test "$(P schedule --from 2026-09-07 --to 2026-09-13)" = "Geen activiteiten van maandag 7 september 2026 tot en met zondag 13 september 2026."

t "the default period is this week, Monday to Sunday"
ok_if sh -c "'$PLEIN' -C '$TMP/s' schedule --json | python3 -c 'import json,sys; json.load(sys.stdin)'"

t "spring forward: a Sunday 10:00 rule moves from 09:00Z to 08:00Z"
P rule add --offering "$taalcafe" --location "$centrum" --rrule "FREQ=WEEKLY;BYDAY=SU" --start 10:00 --end 11:00 --from 2026-03-01 --until 2026-04-30 >/dev/null
got=$(P schedule --from 2026-03-22 --to 2026-04-05 --json | lines | cut -d' ' -f1,2,4)
ok_if test "$got" = "2026-03-22 10:00 2026-03-22T09:00:00Z
2026-03-29 10:00 2026-03-29T08:00:00Z
2026-04-05 10:00 2026-04-05T08:00:00Z"

t "cancelling a cancelled date again updates the same exception"
again=$(P rule cancel "$tue" --date 2026-10-20 --reason "Herfstvakantie (hele week)")
ok_if test "$again" = "$cancel" -a "$(sqlite3 s/plein.db "SELECT count(*) FROM schedule_exception WHERE original_date = '2026-10-20'")" = 1

# --- bad input: exit 1, one 'plein:' line, nothing changed ---------------
d0=$(P digest)
add() { P rule add --offering "$spreekuur" --location "$centrum" --start 13:30 --end 16:00 --from 2026-10-01 "$@"; }

t "unknown offering";      expect_fail 1 "no offering with id 'nope'" P rule add --offering nope --location "$centrum" --rrule FREQ=WEEKLY --start 10:00 --end 11:00
t "unknown location";      expect_fail 1 "no location with id 'nope'" P rule add --offering "$spreekuur" --location nope --rrule FREQ=WEEKLY --start 10:00 --end 11:00
t "rrule FREQ=DAILY";      expect_fail 1 "FREQ=DAILY is not supported" add --rrule FREQ=DAILY
t "rrule BYMONTHDAY";      expect_fail 1 "BYMONTHDAY is not supported; plein takes FREQ=WEEKLY\|MONTHLY" add --rrule "FREQ=MONTHLY;BYMONTHDAY=1"
t "rrule BYSETPOS";        expect_fail 1 "BYSETPOS is not supported" add --rrule "FREQ=MONTHLY;BYDAY=TU;BYSETPOS=1"
t "rrule UNTIL and COUNT"; expect_fail 1 "both UNTIL and COUNT" add --rrule "FREQ=WEEKLY;UNTIL=20261231;COUNT=4"
t "rrule unknown part";    expect_fail 1 "'COLOUR' is unknown" add --rrule "FREQ=WEEKLY;COLOUR=RED"
t "rrule part twice";      expect_fail 1 "gives BYDAY twice" add --rrule "FREQ=WEEKLY;BYDAY=TU;BYDAY=TH"
t "rrule INTERVAL=0";      expect_fail 1 "INTERVAL must be a whole number from 1 to 99" add --rrule "FREQ=WEEKLY;INTERVAL=0"
t "rrule COUNT=x";         expect_fail 1 "COUNT must be a whole number" add --rrule "FREQ=WEEKLY;COUNT=x"
t "rrule bad weekday";     expect_fail 1 "BYDAY 'TUE' is not a weekday" add --rrule "FREQ=WEEKLY;BYDAY=TUE"
t "rrule 1TU weekly";      expect_fail 1 "needs FREQ=MONTHLY" add --rrule "FREQ=WEEKLY;BYDAY=1TU"
t "rrule 6TU monthly";     expect_fail 1 "week of the month must be 1 to 5" add --rrule "FREQ=MONTHLY;BYDAY=6TU"
t "rrule bad UNTIL";       expect_fail 1 "UNTIL=20260230 is not a date" add --rrule "FREQ=WEEKLY;UNTIL=20260230"
t "rrule without FREQ";    expect_fail 1 "needs FREQ=WEEKLY or FREQ=MONTHLY" add --rrule "BYDAY=TU"
t "rrule empty part";      expect_fail 1 "empty part" add --rrule "FREQ=WEEKLY;"
t "impossible --from";     expect_fail 1 "--from '2026-02-30' is not a date" P rule add --offering "$spreekuur" --location "$centrum" --rrule FREQ=WEEKLY --start 10:00 --end 11:00 --from 2026-02-30
t "impossible --until";    expect_fail 1 "--until '2026-13-01' is not a date" add --rrule FREQ=WEEKLY --until 2026-13-01
t "--start 25:00";         expect_fail 1 "--start '25:00' is not a time" P rule add --offering "$spreekuur" --location "$centrum" --rrule FREQ=WEEKLY --start 25:00 --end 26:00
t "--end 12:60";           expect_fail 1 "--end '12:60' is not a time" P rule add --offering "$spreekuur" --location "$centrum" --rrule FREQ=WEEKLY --start 10:00 --end 12:60
t "end before start";      expect_fail 1 "--end 09:00 is not after --start 10:00" P rule add --offering "$spreekuur" --location "$centrum" --rrule FREQ=WEEKLY --start 10:00 --end 09:00
t "end equal to start";    expect_fail 1 "--end 10:00 is not after --start 10:00" P rule add --offering "$spreekuur" --location "$centrum" --rrule FREQ=WEEKLY --start 10:00 --end 10:00
t "until before from";     expect_fail 1 "--until 2026-09-01 is before --from 2026-10-01" add --rrule FREQ=WEEKLY --until 2026-09-01
t "a rule without dates";  expect_fail 1 "the rule has no dates from 2026-10-01" add --rrule "FREQ=WEEKLY;COUNT=2;BYDAY=MO" --until 2026-10-04
t "missing --rrule";       expect_fail 1 "needs --rrule" P rule add --offering "$spreekuur" --location "$centrum" --start 10:00 --end 11:00
t "cancel: not an occurrence"; expect_fail 1 "2026-10-21 is not a date of rule $tue; the nearest are 2026-10-20 and 2026-10-27" P rule cancel "$tue" --date 2026-10-21
t "cancel: before the rule starts"; expect_fail 1 "2026-09-29 is not a date of rule $tue; the nearest is 2026-10-06" P rule cancel "$tue" --date 2026-09-29
t "cancel: after --until";  expect_fail 1 "2027-01-03 is not a date of rule $sun" P rule cancel "$sun" --date 2027-01-03
t "cancel: impossible date"; expect_fail 1 "--date '2026-02-30' is not a date" P rule cancel "$tue" --date 2026-02-30
t "cancel: unknown rule";  expect_fail 1 "no rule with id 'nope'" P rule cancel nope --date 2026-10-20
t "cancel: no rule id";    expect_fail 1 "missing arguments for 'plein rule cancel'" P rule cancel --date 2026-10-20
t "cancel: no --date";     expect_fail 1 "needs --date" P rule cancel "$tue"
t "move: not an occurrence"; expect_fail 1 "2026-10-28 is not a date of rule" P rule move "$tue" --date 2026-10-28 --start 10:00 --end 11:00
t "move: end before start"; expect_fail 1 "--end 10:00 is not after --start 11:00" P rule move "$tue" --date 2026-11-03 --start 11:00 --end 10:00
t "move: 24:00";           expect_fail 1 "--end '24:00' is not a time" P rule move "$tue" --date 2026-11-03 --start 23:00 --end 24:00
t "move: impossible --to"; expect_fail 1 "--to '2026-11-31' is not a date" P rule move "$tue" --date 2026-11-03 --to 2026-11-31 --start 10:00 --end 11:00
t "move: unknown location"; expect_fail 1 "no location with id 'nope'" P rule move "$tue" --date 2026-11-03 --start 10:00 --end 11:00 --location nope
t "schedule: impossible --from"; expect_fail 1 "--from '2026-02-30' is not a date" P schedule --from 2026-02-30
t "schedule: --to before --from"; expect_fail 1 "--to 2026-10-01 is before --from 2026-10-08" P schedule --from 2026-10-08 --to 2026-10-01
t "schedule: unknown location"; expect_fail 1 "no location with id 'nope'" P schedule --location nope
t "schedule: too long a period"; expect_fail 1 "longer than 10 years" P schedule --from 2020-01-01 --to 2035-01-01
t "schedule: --ics with a period that ends before it begins"; expect_fail 1 "is before --from" P schedule --ics --from 2026-10-10 --to 2026-10-01
t "schedule: --json and --ics"; expect_fail 1 "not both" P schedule --json --ics

t "none of the bad input changed anything"
ok_if test "$(P digest)" = "$d0"

done_testing
