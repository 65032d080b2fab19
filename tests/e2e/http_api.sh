#!/usr/bin/env bash
# The HTTP API with curl against a real server: every endpoint gives what
# the CLI gives, the token guards /api/, bad input gets a JSON error with
# the right status, and writes made through the API are sealed, pushed
# by the daemon to its peer and reach another site through a bare
# repository.
. "$(dirname "$0")/lib.sh"

declare -A PID=()
trap 'for p in "${PID[@]}"; do kill -KILL "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$TMP"' EXIT

# serve NAME: run 'plein serve --http 127.0.0.1:0' for site $TMP/NAME
# (log in NAME.log); sets ADDR (the port it got) and TOK (its token).
serve() {
	: > "$TMP/$1.log"
	"$PLEIN" -C "$TMP/$1" serve --http 127.0.0.1:0 --interval 3600 >> "$TMP/$1.out" 2>> "$TMP/$1.log" &
	PID[$1]=$!
	for _ in $(seq 300); do grep -q 'HTTP on http://' "$TMP/$1.log" && break; sleep 0.1; done
	ADDR=$(sed -n 's|.*HTTP on http://\([^/]*\)/.*|\1|p' "$TMP/$1.log" | tail -1)
	TOK=$(sed -n 's/^[[:space:]]*token[[:space:]]*=[[:space:]]*//p' "$TMP/$1/plein.conf")
}
# stop NAME: SIGTERM; its exit status goes to STOPPED.
stop() { kill -TERM "${PID[$1]}"; wait "${PID[$1]}"; STOPPED=$?; unset "PID[$1]"; }

# api METHOD PATH [BODY]: sets code and body (the reply).
api() {
	local m=$1 p=$2; shift 2
	if [ $# -gt 0 ]; then
		code=$(curl -s -o "$TMP/reply" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $TOK" \
			-H 'Content-Type: application/json' --data-binary "$1" "http://$ADDR$p")
	else
		code=$(curl -s -o "$TMP/reply" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $TOK" "http://$ADDR$p")
	fi
	body=$(cat "$TMP/reply")
}
# pyj EXPR: evaluate EXPR over the JSON document d read from stdin.
pyj() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
same() { if [ "$1" = "$2" ]; then pass; else fail "got '$1', expected '$2'"; fi; }
# is CODE: the last reply had status CODE.
is() { if [ "$code" = "$1" ]; then pass; else fail "status $code, expected $1: $body"; fi; }
# err CODE PATTERN: status CODE and a JSON {"error": ...} matching PATTERN.
err() {
	local msg
	msg=$(printf '%s' "$body" | pyj "d['error'] if list(d) == ['error'] else ''" 2>/dev/null)
	if [ "$code" != "$1" ]; then fail "status $code, expected $1: $body"
	elif ! printf '%s' "$msg" | grep -qE "$2"; then fail "error '$body' does not match '$2'"
	else pass; fi
}
pa() { plein -C "$TMP/a" "$@"; }

new_site a
serve a

t "plein serve --http listens on 127.0.0.1 and says where"
ok_if test -n "$(printf '%s' "$ADDR" | grep -E '^127\.0\.0\.1:[0-9]+$')"

# --- the token ---------------------------------------------------------------

t "no token: 401 with a JSON error"
code=$(curl -s -o "$TMP/reply" -w '%{http_code}' "http://$ADDR/api/v1/locations"); body=$(cat "$TMP/reply")
err 401 'Authorization: Bearer'

t "a wrong token: 401"
code=$(curl -s -o "$TMP/reply" -w '%{http_code}' -H "Authorization: Bearer ${TOK%?}x" "http://$ADDR/api/v1/locations"); body=$(cat "$TMP/reply")
err 401 'token'

t "the token under another scheme: 401"
code=$(curl -s -o "$TMP/reply" -w '%{http_code}' -H "Authorization: Basic $TOK" "http://$ADDR/api/v1/status"); body=$(cat "$TMP/reply")
err 401 'Bearer'

t "an unknown /api/ route without a token is 401, not 404 (nothing is revealed)"
code=$(curl -s -o "$TMP/reply" -w '%{http_code}' "http://$ADDR/api/v2/secret"); body=$(cat "$TMP/reply")
err 401 'token'

t "with the token: the API index"
api GET /api/v1
same "$code $body" '200 {"api":"plein","version":1}'

t "JSON replies say so in their content type"
ok_if sh -c "curl -s -D - -o /dev/null -H 'Authorization: Bearer $TOK' http://$ADDR/api/v1/locations | grep -qi '^content-type: application/json; charset=utf-8'"

# --- locations, partners, offerings --------------------------------------------

t "POST /locations creates a location: 201 and its id"
api POST /api/v1/locations '{"name": "Bibliotheek Centrum", "kind": "branch", "address": "Markt 1"}'
L=$(printf '%s' "$body" | pyj "d['id']")
if [ "$code" = 201 ] && [ ${#L} -eq 26 ]; then pass; else fail "$code $body"; fi

t "GET /locations is 'plein location list --json'"
api GET /api/v1/locations
same "$body" "$(pa location list --json)"

t "a location in another time zone; an unknown zone is refused"
api POST /api/v1/locations '{"name": "Mobiel", "kind": "mobile", "tz": "Mars/Olympus"}'
err 400 "unknown time zone 'Mars/Olympus'"

t "POST /partners with every field"
api POST /api/v1/partners '{"name": "Juridisch Loket", "kind": "juridisch", "phone": "088 020 20 20", "email": "info@example.nl",
	"reachable": "ma-vr 9-12", "referral_method": "call", "max_attempts": 2, "website": "https://example.nl"}'
JL=$(printf '%s' "$body" | pyj "d['id']")
is 201

t "GET /partners is 'plein partner list --json'"
api GET /api/v1/partners
same "$body" "$(pa partner list --json)"

t "max_attempts out of range names the JSON field"
api POST /api/v1/partners '{"name": "X", "max_attempts": 0}'
err 400 '^max_attempts must be a whole number from 1 to 100'

t "a bad referral_method lists the allowed values"
api POST /api/v1/partners '{"name": "X", "referral_method": "pigeon"}'
err 400 "^referral_method 'pigeon' is not one of: call, mail, card, walk_in"

t "POST /offerings, then GET /offerings is 'plein offering list --json'"
api POST /api/v1/offerings "{\"partner\": \"$JL\", \"theme\": \"juridisch\", \"kind\": \"spreekuur\", \"title\": \"Spreekuur recht\"}"
O=$(printf '%s' "$body" | pyj "d['id']")
api GET /api/v1/offerings
same "$body" "$(pa offering list --json)"

t "an offering with an unknown theme code: 400"
api POST /api/v1/offerings "{\"partner\": \"$JL\", \"theme\": \"astrologie\", \"kind\": \"spreekuur\", \"title\": \"X\"}"
err 400 "unknown theme 'astrologie'"

t "an offering of an unknown partner: 400 (a bad id inside a body)"
api POST /api/v1/offerings '{"partner": "01ZZZZZZZZZZZZZZZZZZZZZZZZ", "theme": "werk", "kind": "workshop", "title": "X"}'
err 400 "no partner with id '01ZZZZZZZZZZZZZZZZZZZZZZZZ'"

# --- the schedule ----------------------------------------------------------------

R=$(pa rule add --offering "$O" --location "$L" --rrule "FREQ=WEEKLY;BYDAY=TU" --start 13:30 --end 16:00 --from 2026-10-01)
pa rule cancel "$R" --date 2026-11-03 --reason Studiedag >/dev/null
pa rule move "$R" --date 2026-11-10 --start 10:00 --end 12:00 >/dev/null

t "GET /schedule is 'plein schedule --json' over the same period and place (cancel, move, DST)"
api GET "/api/v1/schedule?location=$L&from=2026-10-20&to=2026-11-17"
if [ "$code" = 200 ] && [ "$body" = "$(pa schedule --json --location "$L" --from 2026-10-20 --to 2026-11-17)" ] &&
   [ "$(printf '%s' "$body" | pyj "len(d)")" = 5 ]; then pass; else fail "$code $body"; fi

t "a change by another writer shows in the next GET /schedule (the reply cache follows the replica)"
api GET "/api/v1/schedule?location=$L&from=2026-10-20&to=2026-11-17"; before=$body
pa rule cancel "$R" --date 2026-11-17 --reason Feestdag >/dev/null
api GET "/api/v1/schedule?location=$L&from=2026-10-20&to=2026-11-17"
if [ "$body" != "$before" ] && [ "$body" = "$(pa schedule --json --location "$L" --from 2026-10-20 --to 2026-11-17)" ] &&
   [ "$(printf '%s' "$body" | pyj "d[-1]['status']")" = vervalt ]; then pass; else fail "$body"; fi

t "GET /schedule without parameters is this week, as the CLI"
api GET /api/v1/schedule
same "$body" "$(pa schedule --json)"

t "a malformed date: 400 naming the parameter"
api GET "/api/v1/schedule?from=2026-02-30"
err 400 "^from '2026-02-30' is not a date"

t "to before from: 400"
api GET "/api/v1/schedule?from=2026-11-10&to=2026-11-01"
err 400 "^to 2026-11-01 is before from 2026-11-10"

t "an unknown location in the query: 404"
api GET "/api/v1/schedule?location=01ZZZZZZZZZZZZZZZZZZZZZZZZ"
err 404 "no location with id"

t "an unknown query parameter: 400"
api GET "/api/v1/schedule?place=$L"
err 400 "unknown query parameter 'place'; this route takes: location, from, to"

# --- visits ------------------------------------------------------------------------

t "POST /visits: one visit, one question per theme, all fields"
api POST /api/v1/visits "{\"location\": \"$L\", \"themes\": [\"werk\", \"geld\"], \"agency\": \"uwv\", \"kind\": \"formulier\",
	\"channel\": \"appointment\", \"at\": \"2026-11-24 10:30\", \"partner\": \"$JL\", \"solved\": true, \"minutes\": 20}"
V=$(printf '%s' "$body" | pyj "d['id']")
same "$code $(sqlite3 "$TMP/a/plein.db" "SELECT v.at || ' ' || v.daypart || ' ' || group_concat(q.theme || ',' || q.minutes, ' ')
	FROM visit v JOIN question q ON q.visit_id = v.id WHERE v.id = '$V' ORDER BY q.theme")" \
	"201 2026-11-24T09:30:00Z ochtend werk,30 geld,30"

t "GET /visits is 'plein visit list --json', with the same filters"
api GET "/api/v1/visits?location=$L&from=2026-11-01&to=2026-11-30"
same "$body" "$(pa visit list --json --location "$L" --from 2026-11-01 --to 2026-11-30)"

t "themes must be an array of strings"
api POST /api/v1/visits "{\"location\": \"$L\", \"themes\": \"werk\"}"
err 400 '^themes must be an array of strings, not a string'

t "an empty themes array says how to give them"
api POST /api/v1/visits "{\"location\": \"$L\", \"themes\": []}"
err 400 'themes: \[CODE'

t "a number where a string belongs: 400"
api POST /api/v1/visits "{\"location\": 12, \"themes\": [\"werk\"]}"
err 400 '^location must be a string, not a number'

t "a fraction where a whole number belongs: 400"
api POST /api/v1/visits "{\"location\": \"$L\", \"themes\": [\"werk\"], \"minutes\": 2.5}"
err 400 '^minutes must be a whole number, not a number'

t "a bad timestamp: 400"
api POST /api/v1/visits "{\"location\": \"$L\", \"themes\": [\"werk\"], \"at\": \"gisteren\"}"
err 400 "^at 'gisteren' is not a timestamp"

t "an unknown agency code: 400"
api POST /api/v1/visits "{\"location\": \"$L\", \"themes\": [\"werk\"], \"agency\": \"kgb\"}"
err 400 "unknown agency 'kgb'"

t "a missing required field: 400 naming it"
api POST /api/v1/visits '{"themes": ["werk"]}'
err 400 "needs the field 'location'"

t "an unknown field: 400 naming it and the known ones"
api POST /api/v1/visits "{\"location\": \"$L\", \"themes\": [\"werk\"], \"bsn\": \"123456782\"}"
err 400 "unknown field 'bsn' in the body; this route takes: location, themes"

# --- malformed bodies and limits -------------------------------------------------

before=$(pa digest)
t "malformed JSON: 400 with what is wrong and where"
api POST /api/v1/visits "{\"location\": \"$L\", \"themes\": [\"werk\"]"
err 400 "not valid JSON: .* at byte [0-9]+"

t "a trailing comma is not JSON"
api POST /api/v1/locations '{"name": "X", "kind": "branch",}'
err 400 'trailing commas'

t "a duplicate field: 400"
api POST /api/v1/locations '{"name": "X", "kind": "branch", "name": "Y"}'
err 400 "the field 'name' twice"

t "bytes that are not UTF-8: 400"
api POST /api/v1/locations "$(printf '{"name": "X\xff", "kind": "branch"}')"
err 400 'not UTF-8'

t "a body that is not an object: 400"
api POST /api/v1/locations '["name", "X"]'
err 400 'must be a JSON object, not an array'

t "a body without Content-Type application/json: 415"
code=$(curl -s -o "$TMP/reply" -w '%{http_code}' -H "Authorization: Bearer $TOK" -d 'name=X&kind=branch' "http://$ADDR/api/v1/locations"); body=$(cat "$TMP/reply")
err 415 'Content-Type: application/json'

# post413 FILE [CURL ARGS...]: POST FILE to /locations; sets code, ctype, body.
post413() {
	local f=$1; shift
	ctype=$(curl -s -o "$TMP/reply" -w '%{http_code} %{content_type}' -H "Authorization: Bearer $TOK" \
		-H 'Content-Type: application/json' "$@" --data-binary @"$f" "http://$ADDR/api/v1/locations")
	code=${ctype%% *}; ctype=${ctype#* }; body=$(cat "$TMP/reply")
}
t "a body over 64 KiB: 413 with a JSON error"
python3 -c "import json; print(json.dumps({'name': 'x' * 70000, 'kind': 'branch'}))" > "$TMP/big.json"
post413 "$TMP/big.json"
err 413 'the body is over 65536 bytes, the most the API takes; send less'
small413=$body

t "a body over 1 MiB: the same JSON 413, application/json, not evhttp's HTML page"
head -c 2000000 /dev/zero | tr '\0' 'x' > "$TMP/huge.json"
post413 "$TMP/huge.json"
if [ "$code $ctype" = "413 application/json; charset=utf-8" ] && [ "$body" = "$small413" ]; then pass
else fail "$code $ctype: $body"; fi

t "a chunked body over 64 KiB (no length given): the same JSON 413"
head -c 200000 "$TMP/huge.json" > "$TMP/chunked.json"
post413 "$TMP/chunked.json" -H 'Transfer-Encoding: chunked'
if [ "$code $ctype" = "413 application/json; charset=utf-8" ] && [ "$body" = "$small413" ]; then pass
else fail "$code $ctype: $body"; fi

t "a body of exactly 64 KiB is read (and refused for what it says, not its size)"
python3 -c "import sys; sys.stdout.write('{\"name\": \"' + 'x' * (65536 - 23) + '\", \"kind\": 7}')" > "$TMP/edge.json"
post413 "$TMP/edge.json"
same "$code $(wc -c < "$TMP/edge.json")" "400 65536"

t "none of the refused requests changed anything"
same "$(pa digest)" "$before"

t "an unknown route: 404"
api GET /api/v1/nothing
err 404 'no such page or API route'

t "a wrong method: 405 with an Allow header"
hdr=$(curl -s -D - -o "$TMP/reply" -X DELETE -H "Authorization: Bearer $TOK" "http://$ADDR/api/v1/visits"); body=$(cat "$TMP/reply")
code=$(printf '%s' "$hdr" | head -1 | cut -d' ' -f2)
if printf '%s' "$hdr" | grep -qi '^allow: GET, HEAD, POST'; then err 405 'not allowed'; else fail "$hdr"; fi

t "a GET with a body: 400"
code=$(curl -s -o "$TMP/reply" -w '%{http_code}' -X GET -H "Authorization: Bearer $TOK" -H 'Content-Type: application/json' \
	--data-binary '{}' "http://$ADDR/api/v1/locations"); body=$(cat "$TMP/reply")
err 400 'takes no body'

# --- referrals ----------------------------------------------------------------------

t "POST /referrals with sealed contact details: 201"
api POST /api/v1/referrals "{\"to\": \"$JL\", \"theme\": \"juridisch\", \"follow_up\": \"2026-01-05\",
	\"contact_name\": \"Fatima de Vries\", \"contact_phone\": \"06 12345678\", \"note\": \"belt liever na 12 uur\"}"
RF=$(printf '%s' "$body" | pyj "d['id']")
is 201

t "the contact details are stored sealed, not as text"
same "$(sqlite3 "$TMP/a/plein.db" "SELECT typeof(contact), instr(CAST(contact AS TEXT), 'Fatima') FROM referral WHERE id = '$RF'")" "blob|0"

t "GET /referrals/ID is 'plein referral show ID --json', the details readable at this site"
api GET "/api/v1/referrals/$RF"
if [ "$code" = 200 ] && [ "$body" = "$(pa referral show "$RF" --json)" ] &&
   [ "$(printf '%s' "$body" | pyj "d['contact']['name']")" = "Fatima de Vries" ]; then pass; else fail "$code $body"; fi

t "a bad phone number names the JSON field"
api POST /api/v1/referrals "{\"to\": \"$JL\", \"theme\": \"juridisch\", \"contact_phone\": \"bel maar\"}"
err 400 "^contact_phone 'bel maar' is not a phone number"

t "a bad follow_up date: 400"
api POST /api/v1/referrals "{\"to\": \"$JL\", \"theme\": \"juridisch\", \"follow_up\": \"5 januari\"}"
err 400 "^follow_up '5 januari' is not a date"

t "GET /referrals, ?open=true and ?due=true are the CLI's listings"
api GET /api/v1/referrals; all=$body
api GET "/api/v1/referrals?open=true"; open=$body
api GET "/api/v1/referrals?due=true"; due=$body
if [ "$all" = "$(pa referral list --json)" ] && [ "$open" = "$(pa referral list --open --json)" ] &&
   [ "$due" = "$(pa referral list --due --json)" ] && [ "$(printf '%s' "$due" | pyj "len(d)")" = 1 ]; then pass
else fail "$all / $open / $due"; fi

t "?open=perhaps: 400"
api GET "/api/v1/referrals?open=perhaps"
err 400 "use true or false"

t "POST /referrals/ID/attempts counts one more and gives the agreed limit"
api POST "/api/v1/referrals/$RF/attempts"
same "$code $(printf '%s' "$body" | pyj "(d['attempts'], d['max_attempts'])")" "200 (1, 2)"

t "POST /referrals/ID/status moves it along"
api POST "/api/v1/referrals/$RF/status" '{"status": "appointment"}'
same "$code $(pa referral show "$RF" --json | pyj "d['status']")" "200 appointment"

t "a status that goes back: 400"
api POST "/api/v1/referrals/$RF/status" '{"status": "contacted"}'
err 400 "cannot go back to 'contacted'"

t "an unknown status lists the allowed ones"
api POST "/api/v1/referrals/$RF/status" '{"status": "lost"}'
err 400 "^status 'lost' is not one of: new, contacted"

t "closing it with an outcome"
api POST "/api/v1/referrals/$RF/status" '{"status": "done", "outcome": "bezwaar ingediend"}'
same "$code $(pa referral show "$RF" --json | pyj "(d['status'], d['outcome'], d['closed_at'] is not None)")" \
	"200 ('done', 'bezwaar ingediend', True)"

t "an unknown referral in the path: 404"
api GET /api/v1/referrals/01ZZZZZZZZZZZZZZZZZZZZZZZZ
err 404 "no referral with id"

t "a status change of an unknown referral: 404"
api POST /api/v1/referrals/01ZZZZZZZZZZZZZZZZZZZZZZZZ/status '{"status": "done"}'
err 404 "no referral with id"

# --- sign-ups ------------------------------------------------------------------------

W=$(pa offering add --partner "$JL" --theme digitaal --kind workshop --title "DigiD aanvragen" --capacity 1 --signup)
WR=$(pa rule add --offering "$W" --location "$L" --rrule "FREQ=WEEKLY;BYDAY=TH" --start 10:00 --end 11:30 --from 2026-11-01)

t "POST /signups: the first gets the place, the second the waitlist"
api POST /api/v1/signups "{\"rule\": \"$WR\", \"date\": \"2026-11-26\", \"who\": \"Jan\"}"; S1=$(printf '%s' "$body" | pyj "d['id']"); c1=$code
api POST /api/v1/signups "{\"rule\": \"$WR\", \"date\": \"2026-11-26\"}"; S2=$(printf '%s' "$body" | pyj "d['id']")
same "$c1 $code $(sqlite3 "$TMP/a/plein.db" "SELECT group_concat(status, ',') FROM (SELECT status FROM signup WHERE rule_id = '$WR' ORDER BY created_at, id)")" \
	"201 201 booked,waitlisted"

t "GET /signups is 'plein signup list --json'"
api GET "/api/v1/signups?rule=$WR&date=2026-11-26"
if [ "$body" = "$(pa signup list --rule "$WR" --date 2026-11-26 --json)" ] &&
   [ "$(printf '%s' "$body" | pyj "d[0]['who']")" = Jan ]; then pass; else fail "$body"; fi

t "GET /signups without the occurrence: 400"
api GET "/api/v1/signups?rule=$WR"
err 400 'rule=ID&date=YYYY-MM-DD'

t "a date that is not an occurrence of the rule: 400"
api POST /api/v1/signups "{\"rule\": \"$WR\", \"date\": \"2026-11-25\"}"
err 400 'is not a date of rule'

t "cancelling the place moves the waitlist up"
api POST "/api/v1/signups/$S1/status" '{"status": "cancelled"}'
same "$code $(printf '%s' "$body" | pyj "(d['status'], d['promoted'])")" "200 ('cancelled', ['$S2'])"

# --- reports and status --------------------------------------------------------------

t "GET /reports is 'plein report --json' with the same by, from and to"
api GET "/api/v1/reports?by=theme&by=location&from=2026-11-01&to=2026-11-30"
if [ "$code" = 200 ] && [ "$body" = "$(pa report --json --by theme --by location --from 2026-11-01 --to 2026-11-30)" ] &&
   [ "$(printf '%s' "$body" | pyj "d['total']['questions']")" = 2 ]; then pass; else fail "$code $body"; fi

t "GET /reports without parameters is 'plein report --json'"
api GET /api/v1/reports
same "$body" "$(pa report --json)"

t "a report by something unknown: 400"
api GET "/api/v1/reports?by=weather"
err 400 "cannot report by 'weather'"

t "every API write was sealed into the log"
api GET /api/v1/status
same "$(printf '%s' "$body" | pyj "d['unsealed_changes']")" 0

t "GET /status is 'plein status --json'"
api GET /api/v1/status
same "$body" "$(pa status --json)"

t "GET /status counts the conflicts 'plein conflicts' lists (none here)"
same "$(printf '%s' "$body" | pyj "d['conflicts']")" "$(pa conflicts --json | pyj "len(d)")"

t "the log rebuilds the same state (verify)"
ok_if sh -c "'$PLEIN' -C '$TMP/a' verify >/dev/null"

# --- the pages and the feed: no token, parameters checked ------------------------------

get() { code=$(curl -s -o "$TMP/reply" -w '%{http_code}' "http://$ADDR$1"); body=$(cat "$TMP/reply"); }

# hdr PATH: the status and the Content-Type of a GET, and the body in $body.
hdr() { curl -s -o "$TMP/reply" -D "$TMP/head" "http://$ADDR$1" >/dev/null; body=$(cat "$TMP/reply")
	code=$(sed -n '1s/^HTTP\/1\.[01] \([0-9]*\).*/\1/p' "$TMP/head")
	ctype=$(grep -i '^content-type:' "$TMP/head" | tr -d '\r' | sed 's/^[^:]*: *//'); }

t "/board: today's programme as HTML, without a token"
hdr "/board?location=$L"
if [ "$code" = 200 ] && [ "$ctype" = "text/html; charset=utf-8" ] && printf '%s' "$body" | grep -q 'Ontwikkelplein\|ONTWIKKELPLEIN\|<html'; then pass; else fail "$code $ctype"; fi

t "/board/version: a short token that changes with the content"
hdr "/board/version?location=$L"
if [ "$code" = 200 ] && printf '%s' "$body" | grep -qE '^[0-9a-f]{16}$'; then pass; else fail "$code '$body'"; fi

t "/folder: this week's programme as HTML"
hdr "/folder?location=$L&week=$(date +%G-W%V)"
if [ "$code" = 200 ] && [ "$ctype" = "text/html; charset=utf-8" ] && printf '%s' "$body" | grep -q '@media print'; then pass; else fail "$code $ctype"; fi

t "/schedule.ics: an iCalendar feed of the location"
hdr "/schedule.ics?location=$L"
if [ "$code" = 200 ] && [ "$ctype" = "text/calendar; charset=utf-8" ] && printf '%s' "$body" | grep -q '^BEGIN:VCALENDAR' &&
   printf '%s' "$body" | grep -q 'BEGIN:VEVENT'; then pass; else fail "$code $ctype"; fi

t "/board of an unknown location: 404"
get "/board?location=01JD0000000000000000000000"
if [ "$code" = 404 ]; then pass; else fail "$code"; fi

t "/board without a location: 400"
get /board
err 400 'location=ID'

t "/folder without a week: 400"
get "/folder?location=$L"
err 400 'week=YYYY-Www'

t "/schedule.ics with an unknown parameter: 400"
get "/schedule.ics?city=Hengelo"
err 400 "unknown query parameter 'city'"

t "/board/version takes no other parameter"
get "/board/version?location=$L&x=1"
err 400 "unknown query parameter 'x'"

t "a POST to the board: 405"
code=$(curl -s -o "$TMP/reply" -w '%{http_code}' -X POST "http://$ADDR/board?location=$L"); body=$(cat "$TMP/reply")
err 405 'not allowed'

t "every path and method of docs/openapi.yaml is a route of the server"
missing=$(python3 - "$(dirname "$0")/../../docs/openapi.yaml" "$ADDR" "$TOK" <<'PY'
import sys, yaml, urllib.request, urllib.error, json
doc = yaml.safe_load(open(sys.argv[1]))
out = []
for path, ops in doc['paths'].items():
    for m in ('get', 'post'):
        if m not in ops:
            continue
        req = urllib.request.Request('http://' + sys.argv[2] + path.replace('{id}', '01ZZZZZZZZZZZZZZZZZZZZZZZZ'),
                                     method=m.upper(), headers={'Authorization': 'Bearer ' + sys.argv[3]})
        try:
            urllib.request.urlopen(req).read()
        except urllib.error.HTTPError as e:
            body = e.read().decode()
            if e.code in (404, 405) and ('no such page' in body or 'not allowed' in body):
                out.append(m.upper() + ' ' + path)
print(' '.join(out))
PY
)
same "$missing" ""

# --- a write through the API reaches another site ---------------------------------

stick="$TMP/stick.git"
pa card > "$TMP/card.txt"
id_a=$(pa id)
id_b=$(plein init "$TMP/b" --card "$TMP/card.txt" --name "Juridisch Loket" --role partner)
plein -C "$TMP/b" sync "$stick" >/dev/null 2>&1
pa admit "$id_b" --name "Juridisch Loket" --role partner --key "$(plein -C "$TMP/b" id --key)" >/dev/null

t "the daemon stops cleanly on SIGTERM"
stop a
same "$STOPPED" 0

# Restart site a's daemon with the stick as its peer: it syncs there on
# its own soon after each write, the API's included (on_write).
pa peer add stick "$stick"
serve a
# pushed: the stick holds site a's whole chain.
pushed() { [ "$(git --git-dir "$stick" rev-parse -q --verify "refs/plein/sites/$id_a")" = \
	"$(git --git-dir "$TMP/a/log.git" rev-parse -q --verify "refs/plein/sites/$id_a")" ]; }
wait_pushed() { for _ in $(seq 600); do pushed && return 0; sleep 0.1; done; return 1; }
wait_pushed

t "a partner that runs a plein site, added through the API"
api POST /api/v1/partners "{\"name\": \"Juridisch Loket Borne\", \"site\": \"$id_b\", \"referral_method\": \"mail\"}"
JB=$(printf '%s' "$body" | pyj "d['id']")
is 201

t "a visit and a referral to that partner, written through the API"
api POST /api/v1/visits "{\"location\": \"$L\", \"themes\": [\"juridisch\"], \"at\": \"2026-11-25T09:00:00Z\"}"; VB=$(printf '%s' "$body" | pyj "d['id']"); c1=$code
api POST /api/v1/referrals "{\"to\": \"$JB\", \"theme\": \"juridisch\", \"contact_name\": \"Piet Jansen\", \"contact_email\": \"piet@example.nl\"}"
RB=$(printf '%s' "$body" | pyj "d['id']")
same "$c1 $code" "201 201"

t "the daemon syncs the API's writes to its peer, and 'plein sync' through it carries them to the partner's site"
wait_pushed
plein -C "$TMP/b" sync "$stick" >/dev/null 2>&1
same "$(sqlite3 "$TMP/b/plein.db" "SELECT (SELECT count(*) FROM visit WHERE id = '$VB') || (SELECT count(*) FROM referral WHERE id = '$RB')")" 11

t "both sites hold the same state"
same "$(plein -C "$TMP/b" digest)" "$(pa digest)"

pa_addr=$ADDR; pa_tok=$TOK
serve b

t "the partner's own API shows the referral with the contact details it may read"
api GET "/api/v1/referrals/$RB"
same "$code $(printf '%s' "$body" | pyj "(d['contact_readable'], d['contact'] and d['contact']['name'], d['contact'] and d['contact']['email'])")" \
	"200 (True, 'Piet Jansen', 'piet@example.nl')"

t "the partner's token is not site a's token"
code=$(curl -s -o "$TMP/reply" -w '%{http_code}' -H "Authorization: Bearer $pa_tok" "http://$ADDR/api/v1/status"); body=$(cat "$TMP/reply")
err 401 'token'

t "a referral the partner writes through its API to a partner without a site reaches site a, sealed for b alone"
api POST /api/v1/referrals "{\"to\": \"$JL\", \"theme\": \"wonen\", \"contact_name\": \"Anna\"}"
RC=$(printf '%s' "$body" | pyj "d['id']")
plein -C "$TMP/b" sync "$stick" >/dev/null 2>&1
pa sync "$stick" >/dev/null 2>&1
ADDR=$pa_addr; TOK=$pa_tok
api GET "/api/v1/referrals/$RC"
same "$code $(printf '%s' "$body" | pyj "(d['has_contact'], d['contact_readable'], d['contact'])")" "200 (True, False, None)"

t "both daemons stop cleanly"
stop b; st_b=$STOPPED; stop a
same "$st_b $STOPPED" "0 0"

done_testing
