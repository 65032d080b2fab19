#!/usr/bin/env bash
# The iCalendar feed: 'plein schedule --ics' parsed by python3-icalendar and
# expanded with dateutil (tests/tools/ics_occurrences.py) gives exactly the
# occurrences of 'plein schedule --json' — over a range with a cancelled
# date, a moved date (to another location) and the end of summer time, in
# two time zones — for the whole network and per location, partner, theme.
# Then the test vector of docs/ics.md, byte for byte, and bad input.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
EXPAND="$HERE/../tools/ics_occurrences.py"
PY=/usr/bin/python3

new_site s
P() { "$PLEIN" -C "$TMP/s" "$@"; }

centrum=$(P location add --name "Bibliotheek Centrum" --kind branch)
bron=$(P location add --name "Wijkgebouw De Bron" --kind community)
londen=$(P location add --name "Partnerkantoor Londen" --kind partner --tz Europe/London)
fb=$(P partner add --name Formulierenbrigade)
th=$(P partner add --name "Taalhuis; Hengelo, Borne")
sp=$(P offering add --partner "$fb" --theme geld --kind spreekuur --title "Spreekuur belastingaangifte")
tc=$(P offering add --partner "$th" --theme taal --kind oefengroep --title "Taalcafé: Nederlands oefenen in een kleine groep, met koffie en thee — iedereen welkom")
dg=$(P offering add --partner "$th" --theme digitaal --kind workshop --title "Klik & Tik" --capacity 8)

tue=$(P rule add --offering "$sp" --location "$centrum" --rrule "FREQ=WEEKLY;BYDAY=TU" --start 13:30 --end 16:00 --from 2026-09-01 --room leeshoek)
sun=$(P rule add --offering "$tc" --location "$centrum" --rrule "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH,SU" --start 10:00 --end 12:00 --from 2026-08-29 --until 2026-12-20)
mon=$(P rule add --offering "$dg" --location "$bron" --rrule "FREQ=MONTHLY;BYDAY=1WE,-1FR;COUNT=7" --start 09:30 --end 11:00 --from 2026-09-01)
lon=$(P rule add --offering "$sp" --location "$londen" --rrule "FREQ=WEEKLY;BYDAY=MO" --start 18:00 --end 19:00 --from 2026-10-01 --until 2026-11-30)
P rule cancel "$tue" --date 2026-10-20 --reason Herfstvakantie >/dev/null
P rule move "$tue" --date 2026-10-27 --to 2026-10-29 --start 09:00 --end 11:00 --location "$bron" --reason Verbouwing >/dev/null
P rule move "$sun" --date 2026-10-22 --to 2026-10-23 --start 13:00 --end 15:00 --reason "Zaal bezet" >/dev/null
P rule cancel "$mon" --date 2026-10-07 >/dev/null
# Across the border of the period 2026-09-01..2026-12-20 used below: one
# date moves into it from outside, one out of it from inside.
P rule move "$tue" --date 2026-12-22 --to 2026-12-18 --start 10:00 --end 12:00 --reason "Kerstborrel" >/dev/null
P rule move "$tue" --date 2026-09-08 --to 2026-08-28 --start 13:30 --end 16:00 --reason "Eerder" >/dev/null

FROM=2026-09-01 TO=2026-12-31

# plein's own listing in the helper's line format (cancelled ones left out:
# the feed has them as EXDATEs), optionally only one partner's or theme's.
from_json() {
	$PY -c '
import json, sys
key, val = (sys.argv[1].split("=", 1) + [None])[:2] if len(sys.argv) > 1 else (None, None)
rows = []
for o in json.load(sys.stdin):
    if o["status"] == "vervalt" or (key and o[key] != val):
        continue
    where = o["location"] + (", " + o["room"] if o["room"] else "")
    rows.append("%s %s %s %s %s | %s (%s) | %s" % (o["date"], o["start"], o["end"], o["start_utc"], o["end_utc"],
                                                 o["title"], o["partner"], where))
for r in sorted(rows, key=lambda l: (l.split()[3], l)):
    print(r)
' "$@"
}

# compare NAME FEED_OPTS JSON_OPTS FILTER
compare() {
	t "$1"
	local want got
	P schedule --ics $2 >feed.ics || { fail "schedule --ics $2 failed"; return; }
	got=$($PY "$EXPAND" feed.ics $FROM $TO) || { fail "the feed does not parse: $got"; return; }
	want=$(P schedule --from $FROM --to $TO --json $3 | from_json $4)
	if [ -n "$want" ] && [ "$got" = "$want" ]; then pass; else fail "$(diff <(echo "$want") <(echo "$got"))"; fi
}

compare "the whole network's feed gives every occurrence of plein schedule" "" "" ""
compare "the feed of one location: its own rules, less the date moved away" "--location $centrum" "--location $centrum" ""
compare "the feed of the location a date was moved to holds that date" "--location $bron" "--location $bron" ""
compare "a location in Europe/London gets its own VTIMEZONE and times" "--location $londen" "--location $londen" ""
compare "the feed of one partner" "--partner $th" "" "partner_id=$th"
compare "the feed of one theme" "--theme geld" "" "theme=geld"

# With a period, the feed holds exactly what the listing of that period holds.
FROM=2026-09-01 TO=2026-12-20
compare "a feed of a period: rules cut to it, a date moved in from outside, one moved out" \
	"--from $FROM --to $TO" "" ""
compare "a feed of a period at one location" "--from $FROM --to $TO --location $centrum" "--location $centrum" ""
t "a date moved into the period from outside is an event of its own"
ok_if test "$(grep -c "^UID:$tue-20261222@plein" feed.ics)" -eq 1 -a "$(grep -c 'RECURRENCE-ID;TZID=Europe/Amsterdam:20261222' feed.ics)" -eq 0
t "a period cuts the rule: DTSTART on its first date in it, UNTIL its last"
P schedule --ics --from 2026-10-01 --to 2026-10-31 --location "$londen" >oct.ics
ok_if test "$(grep -c $'^DTSTART;TZID=Europe/London:20261005T180000\r$' oct.ics)" -eq 1 -a \
	"$(grep -c $'^RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20261026T180000Z\r$' oct.ics)" -eq 1
FROM=2026-09-01 TO=2026-12-31

t "the range holds a cancelled date, a moved date and the DST change"
all=$(P schedule --from $FROM --to $TO --json)
ok_if $PY -c '
import json, sys
o = json.loads(sys.argv[1])
st = {x["status"] for x in o}
utc_hours = {x["start_utc"][11:13] for x in o if x["start"] == "13:30"}
assert st == {"gepland", "vervalt", "verplaatst"}, st
assert utc_hours == {"11", "12"}, utc_hours
' "$all"

P schedule --ics >all.ics
t "a cancelled date is an EXDATE, a moved one a RECURRENCE-ID override"
ok_if test "$(grep -c $'^EXDATE;TZID=Europe/Amsterdam:20261020T133000\r$' all.ics)" -eq 1 -a \
	"$(grep -c $'^RECURRENCE-ID;TZID=Europe/Amsterdam:20261027T133000\r$' all.ics)" -eq 1

t "UIDs are derived from the rule ids; the three overrides share their rule's UID"
ok_if test "$(grep -c "^UID:$tue@plein" all.ics)" -eq 4 -a "$(grep -c "^UID:$lon@plein" all.ics)" -eq 1

t "the feed of the location a date moved to names it by rule and date"
ok_if grep -q "^UID:$tue-20261027@plein" <(P schedule --ics --location "$bron")

t "the feed is reproducible: the same rows give the same bytes"
ok_if cmp -s all.ics <(P schedule --ics)

t "a long title is folded at 75 octets and comes back whole, escapes undone"
ok_if $PY -c '
import icalendar, sys
cal = icalendar.Calendar.from_ical(open("all.ics", "rb").read())
s = {str(e["SUMMARY"]) for e in cal.walk("VEVENT")}
assert sys.argv[1] + " (Taalhuis; Hengelo, Borne)" in s, s
' "Taalcafé: Nederlands oefenen in een kleine groep, met koffie en thee — iedereen welkom"

t "no personal data: sign-up names never reach the feed"
P signup add --rule "$mon" --date 2026-11-04 --who "Fatima Yilmaz" >/dev/null
P schedule --ics >after.ics
ok_if test "$(grep -ci yilmaz after.ics)" -eq 0 -a -s after.ics

t "CATEGORIES carries the theme label"
ok_if grep -q $'^CATEGORIES:Geld\r$' all.ics

# The test vector of docs/ics.md: its rows, through sqlite3, give its feed.
new_site v
DOC="$HERE/../../docs/ics.md"
t "the test vector of docs/ics.md, byte for byte"
sed -n '/^```sql vector$/,/^```$/p' "$DOC" | sed '1d;$d' | sqlite3 "$TMP/v/plein.db"
sed -n '/^```ics vector$/,/^```$/p' "$DOC" | sed '1d;$d' | sed 's/$/\r/' >want.ics
"$PLEIN" -C "$TMP/v" schedule --ics >got.ics
if [ -s want.ics ] && cmp -s want.ics got.ics; then pass; else fail "$(diff want.ics got.ics | head -20)"; fi

t "unknown filters, a reversed period, --ics with --json, --theme without --ics"
expect_fail 1 "no location with id 'nope'" P schedule --ics --location nope
expect_fail 1 "no partner with id 'nope'" P schedule --ics --partner nope
expect_fail 1 "no theme 'nope'" P schedule --ics --theme nope
expect_fail 1 "is before --from" P schedule --ics --from 2026-10-10 --to 2026-10-01
expect_fail 1 "not both" P schedule --ics --json
expect_fail 1 "give them with --ics" P schedule --theme geld

done_testing
