#!/usr/bin/env bash
# The board and the folder: 'plein board' rendered by headless Chromium
# shows today's entries where they belong (Nu, Straks, Later vandaag), the
# cancelled one marked, the moved one at its new time, the day-part's
# theme; its version token follows the content; 'plein folder' gives the
# week per day and day-part; bad weeks and locations are refused.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
PY=/usr/bin/python3

new_site s
P() { "$PLEIN" -C "$TMP/s" "$@"; }
. "$HERE/pages_fixture.sh"

render() { # render FILE: the DOM after Chromium ran the page
	chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
		--disable-sync --no-first-run --user-data-dir="$(mktemp -d "$TMP/chrome.XXXXXX")" \
		--dump-dom "file://$1" 2>/dev/null
}

t "plein board prints a whole HTML page for the location"
P board --location "$centrum" --at "2026-11-24 13:45" >board.html
ok_if grep -q '^<!DOCTYPE html>' board.html

t "Chromium renders the board: Nu, Straks, Later vandaag; cancelled marked, moved at its new time"
got=$(render "$TMP/board.html" | $PY "$HERE/../tools/board_dom.py")
want="location: Bibliotheek Hengelo Centrum
date: dinsdag 24 november
daypart: Dinsdagmiddag: werk
nu 13:00 gepland Vacaturespreekuur | 
nu 13:30 gepland Vrijwilligerswerk vinden | 
straks 14:00 gepland Sollicitatiebrief & cv | 
straks 14:00 vervalt Spreekuur Juridisch Loket | Vervalt vandaag: Ziek, volgende keer weer
straks 15:30 verplaatst Hulp bij DigiD en de overheid | Verplaatst: Training medewerkers in de ochtend
later 16:30 gepland Klik & Tik: werken met de computer | 
later 19:00 gepland Taalmaatjes-avond | "
if [ "$got" = "$want" ]; then pass; else fail "$(diff <(echo "$want") <(echo "$got"))"; fi

t "what ended before now is not on the board; the moved hour is not at its old time"
ok_if test "$(grep -c 'Taalcaf\|Geldzorgen\|data-start="10:00"' board.html)" -eq 0

t "the board needs no outside assets: no src= or href= to anything"
ok_if test "$(grep -Eci '(src|href)=' board.html)" -eq 0

t "in the evening only the evening remains, and the day-part theme follows"
P board --location "$centrum" --at "2026-11-24 18:30" >evening.html
ok_if $PY -c '
import sys
s = open("evening.html").read()
assert "Taalmaatjes-avond" in s and "Vacaturespreekuur" not in s, "content"
assert "Dinsdagavond: taal" in s, "daypart"
'

t "after the last hour the board says there is nothing more today"
P board --location "$centrum" --at "2026-11-24 21:30" >late.html
ok_if grep -q 'Vandaag is er verder geen programma' late.html

t "the version token is the page's, and stable while nothing changes"
v1=$(P board --location "$centrum" --at "2026-11-24 13:45" --version)
v2=$(P board --location "$centrum" --at "2026-11-24 13:50" --version)
ok_if test "${#v1}" -eq 16 -a "$v1" = "$v2" -a "$(grep -c "data-version=\"$v1\"" board.html)" -eq 1

t "the token changes when an hour starts (Straks becomes Nu)"
v3=$(P board --location "$centrum" --at "2026-11-24 14:01" --version)
ok_if test "$v3" != "$v1"

t "the folder: each day with its day-parts, what, who, where, when"
P folder --location "$centrum" --week 2026-W48 >folder.html
ok_if $PY -c '
import re
s = open("folder.html").read()
days = re.findall(r"<section class=\"dag\" data-date=\"([0-9-]+)\"><h2>([^<]+)</h2>", s)
assert days == [("2026-11-24", "Dinsdag 24 november"), ("2026-11-25", "Woensdag 25 november"),
                ("2026-11-27", "Vrijdag 27 november")], days
assert "Programma week 48 &middot; 23 november t/m 29 november 2026" in s
assert s.count("<h3>") == 6, s.count("<h3>")
assert "middag <span class=\"thema-dagdeel\">&middot; thema Werk</span>" in s
assert "Verplaatst van donderdag 26 november: Donderdag gesloten" in s
assert "Vervalt: Ziek, volgende keer weer" in s
assert "@media print" in s and "size:A4" in s
'

t "the folder of the other location leaves out what moved away from it"
P folder --location "$bron" --week 2026-W48 >bron.html
ok_if grep -q 'Deze week is er geen programma' bron.html

t "a week across the new year names both years"
ok_if grep -q '28 december 2026 t/m 3 januari 2027' <(P folder --location "$centrum" --week 2026-W53)

t "the token changes when the schedule changes"
P rule cancel "$r_cv" --date 2026-11-24 --reason "Docent ziek" >/dev/null
v4=$(P board --location "$centrum" --at "2026-11-24 13:50" --version)
ok_if test "$v4" != "$v1"

t "bad weeks, unknown locations and bad times are refused"
expect_fail 1 "week '2026-48' is not YYYY-Www" P folder --location "$centrum" --week 2026-48
t "week 53 only in a year that has it"
expect_fail 1 "week '2027-W53' does not exist: 2027 has weeks 01 to 52" P folder --location "$centrum" --week 2027-W53
t "week 00"
expect_fail 1 "does not exist" P folder --location "$centrum" --week 2026-W00
t "unknown location on the board"
expect_fail 1 "no location with id 'nope'" P board --location nope
t "unknown location in the folder"
expect_fail 1 "no location with id 'nope'" P folder --location nope --week 2026-W48
t "a bad --at"
expect_fail 1 "--at" P board --location "$centrum" --at gisteren

done_testing
