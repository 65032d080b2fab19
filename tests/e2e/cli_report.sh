#!/usr/bin/env bash
# plein report: exact text, CSV and JSON output over rows written with the
# sqlite3 shell (as any writer may), local dates and months across the
# March DST change, and the bad-input cases.
. "$(dirname "$0")/lib.sh"

new_site s
# v2 is 2026-04-01 00:30 local (CEST since 2026-03-29), 2026-03-31 in UTC.
# q4 is referred through referral.question_id only.
sqlite3 s/plein.db "
INSERT INTO location(id, name, kind) VALUES ('A', 'Bibliotheek Borne', 'branch'),
  ('B', 'Wijkgebouw \"De Kern\", Hengelo', 'community');
INSERT INTO partner(id, name) VALUES ('P', 'Formulierenbrigade');
INSERT INTO visit(id, location_id, at) VALUES ('v1', 'A', '2026-03-28T10:00:00Z'),
  ('v2', 'B', '2026-03-31T22:30:00Z'), ('v3', 'A', '2026-04-02T08:00:00Z');
INSERT INTO question(id, visit_id, theme, agency, partner_id, solved, referral_id) VALUES
  ('q1', 'v1', 'geld', 'belastingdienst', 'P', 1, NULL), ('q2', 'v1', 'digitaal', 'digid', NULL, 0, 'r1'),
  ('q3', 'v2', 'geld', 'toeslagen', 'P', 1, NULL), ('q4', 'v3', 'taal', NULL, NULL, 0, NULL);
INSERT INTO referral(id, question_id, status, created_at, contact) VALUES
  ('r1', 'q2', 'appointment', '2026-03-28T10:20:00Z', x'53454352455420'),
  ('r2', 'q4', 'new', '2026-04-02T08:30:00Z', NULL);
"

t "default report: by theme, totals, referral outcomes (text)"
plein -C s report > out.txt
cat > want.txt <<'EOF'
periode: alle registraties

theme     visits  questions  solved  referred
Digitaal       1          1       0         1
Geld           2          2       2         0
Taal           1          1       0         1
totaal         3          4       2         2

doorverwijzingen (aangemaakt in de periode; dagen tot afsluiten)
status       label             count  closed  median_days  avg_days
new          nieuw                 1       0            -         -
contacted    contact gelegd        0       0            -         -
appointment  afspraak gemaakt      1       0            -         -
done         afgerond              0       0            -         -
declined     afgewezen             0       0            -         -
unreachable  onbereikbaar          0       0            -         -

doorverwijzingen per partner
partner  count  open  closed  median_days  avg_days
(geen)       2     2       0            -         -

aanmeldingen per aanbod en maand
(geen)

IDO-registratie: vragen per instantie
agency           questions  visits
Belastingdienst          1       1
Toeslagen                1       1
DigiD                    1       1
UWV                      0       0
SVB                      0       0
DUO                      0       0
CJIB                     0       0
CAK                      0       0
CBR                      0       0
CIZ                      0       0
Gemeente                 0       0
(geen)                   1       1

IDO-registratie: vragen per soort vraag
kind                        questions  visits
Informatie of uitleg                0       0
Hulp bij een formulier              0       0
Brief lezen of begrijpen            0       0
Inloggen, DigiD of account          0       0
Aanvraag of aanmelding              0       0
Betaling of regeling                0       0
Overig                              0       0
(onbekend)                          4       3
EOF
ok_if diff -u want.txt out.txt

t "--by location --by theme --csv: a cross table, RFC 4180 quoting, CRLF"
plein -C s report --by location --by theme --csv > out.csv
printf '%s\r\n' 'location,location_label,theme,theme_label,visits,questions,solved,referred' \
	'A,Bibliotheek Borne,digitaal,Digitaal,1,1,0,1' \
	'A,Bibliotheek Borne,geld,Geld,1,1,1,0' \
	'A,Bibliotheek Borne,taal,Taal,1,1,0,1' \
	'B,"Wijkgebouw ""De Kern"", Hengelo",geld,Geld,1,1,1,0' > want.csv
ok_if cmp want.csv out.csv

t "the CSV reads back with python's csv module"
ok_if python3 -c '
import csv, sys
rows = list(csv.reader(open("out.csv", newline="", encoding="utf-8")))
sys.exit(0 if rows[4][1] == "Wijkgebouw \"De Kern\", Hengelo" and len(rows) == 5 else 1)'

t "--by month --from/--to --json: local month, exact document"
plein -C s report --by month --from 2026-04-01 --to 2026-04-30 --json > out.json
cat > want.json <<'EOF'
{"from":"2026-04-01","to":"2026-04-30","tz":"Europe/Amsterdam","by":["month"],"rows":[{"month":"2026-04","visits":2,"questions":2,"solved":1,"referred":1}],"total":{"visits":2,"questions":2,"solved":1,"referred":1},"referrals":[{"status":"new","label":"nieuw","count":1,"closed":0,"median_days":null,"avg_days":null},{"status":"contacted","label":"contact gelegd","count":0,"closed":0,"median_days":null,"avg_days":null},{"status":"appointment","label":"afspraak gemaakt","count":0,"closed":0,"median_days":null,"avg_days":null},{"status":"done","label":"afgerond","count":0,"closed":0,"median_days":null,"avg_days":null},{"status":"declined","label":"afgewezen","count":0,"closed":0,"median_days":null,"avg_days":null},{"status":"unreachable","label":"onbereikbaar","count":0,"closed":0,"median_days":null,"avg_days":null}],"referrals_by_partner":[{"partner":null,"partner_label":"(geen)","count":1,"new":1,"contacted":0,"appointment":0,"done":0,"declined":0,"unreachable":0,"closed":0,"median_days":null,"avg_days":null}],"signups":[],"ido":{"agencies":[{"agency":"belastingdienst","agency_label":"Belastingdienst","visits":0,"questions":0,"solved":0,"referred":0},{"agency":"toeslagen","agency_label":"Toeslagen","visits":1,"questions":1,"solved":1,"referred":0},{"agency":"digid","agency_label":"DigiD","visits":0,"questions":0,"solved":0,"referred":0},{"agency":"uwv","agency_label":"UWV","visits":0,"questions":0,"solved":0,"referred":0},{"agency":"svb","agency_label":"SVB","visits":0,"questions":0,"solved":0,"referred":0},{"agency":"duo","agency_label":"DUO","visits":0,"questions":0,"solved":0,"referred":0},{"agency":"cjib","agency_label":"CJIB","visits":0,"questions":0,"solved":0,"referred":0},{"agency":"cak","agency_label":"CAK","visits":0,"questions":0,"solved":0,"referred":0},{"agency":"cbr","agency_label":"CBR","visits":0,"questions":0,"solved":0,"referred":0},{"agency":"ciz","agency_label":"CIZ","visits":0,"questions":0,"solved":0,"referred":0},{"agency":"gemeente","agency_label":"Gemeente","visits":0,"questions":0,"solved":0,"referred":0},{"agency":null,"agency_label":"(geen)","visits":1,"questions":1,"solved":0,"referred":1}],"kinds":[{"kind":"informatie","kind_label":"Informatie of uitleg","visits":0,"questions":0,"solved":0,"referred":0},{"kind":"formulier","kind_label":"Hulp bij een formulier","visits":0,"questions":0,"solved":0,"referred":0},{"kind":"brief","kind_label":"Brief lezen of begrijpen","visits":0,"questions":0,"solved":0,"referred":0},{"kind":"inloggen","kind_label":"Inloggen, DigiD of account","visits":0,"questions":0,"solved":0,"referred":0},{"kind":"aanvraag","kind_label":"Aanvraag of aanmelding","visits":0,"questions":0,"solved":0,"referred":0},{"kind":"betaling","kind_label":"Betaling of regeling","visits":0,"questions":0,"solved":0,"referred":0},{"kind":"overig","kind_label":"Overig","visits":0,"questions":0,"solved":0,"referred":0},{"kind":null,"kind_label":"(onbekend)","visits":2,"questions":2,"solved":1,"referred":1}]}}
EOF
ok_if diff -u want.json out.json

t "the JSON parses and never carries a sealed contact"
ok_if python3 -c '
import json, sys
d = json.load(open("out.json"))
sys.exit(0 if d["rows"][0]["visits"] == 2 and "SECRET" not in open("out.json").read() else 1)'

t "--to is inclusive in local time: 2026-03-31 leaves out 00:30 on 1 April"
plein -C s report --by month --by agency --to 2026-03-31 --csv > out.csv
printf '%s\r\n' 'month,agency,agency_label,visits,questions,solved,referred' \
	'2026-03,belastingdienst,Belastingdienst,1,1,1,0' \
	'2026-03,digid,DigiD,1,1,0,1' > want.csv
ok_if cmp want.csv out.csv

t "--referrals --csv: the referral outcomes alone"
plein -C s report --referrals --csv --from 2026-04-01 > out.csv
printf '%s\r\n' 'status,label,count,closed,median_days,avg_days' 'new,nieuw,1,0,,' 'contacted,contact gelegd,0,0,,' \
	'appointment,afspraak gemaakt,0,0,,' 'done,afgerond,0,0,,' 'declined,afgewezen,0,0,,' 'unreachable,onbereikbaar,0,0,,' > want.csv
ok_if cmp want.csv out.csv

t "--by partner shows names and (geen)"
plein -C s report --by partner > out.txt
partner_rows() { grep -qxE 'Formulierenbrigade +2 +2 +2 +0' out.txt && grep -qxE '\(geen\) +2 +2 +0 +2' out.txt; }
ok_if partner_rows

# Time to close: referrals closed after 1, 2.5, 0.3 and 1.3 days, per
# status and per partner. (Closing stamps closed_at: schema 004.)
sqlite3 s/plein.db "
INSERT INTO partner(id, name) VALUES ('T', 'Taalhuis');
INSERT INTO referral(id, to_partner_id, status, created_at, closed_at) VALUES
  ('r3', 'T', 'done', '2026-04-01T10:00:00Z', '2026-04-02T10:00:00Z'),
  ('r4', 'T', 'done', '2026-04-01T10:00:00Z', '2026-04-03T22:00:00Z'),
  ('r5', 'P', 'declined', '2026-04-01T10:00:00Z', '2026-04-01T17:12:00Z'),
  ('r6', 'P', 'unreachable', '2026-04-05T10:00:00Z', '2026-04-06T17:12:00Z');
"

t "--table referrals: outcomes with the median and mean days to close"
plein -C s report --csv --table referrals --from 2026-04-01 > out.csv
printf '%s\r\n' 'status,label,count,closed,median_days,avg_days' 'new,nieuw,1,0,,' 'contacted,contact gelegd,0,0,,' \
	'appointment,afspraak gemaakt,0,0,,' 'done,afgerond,2,2,1.8,1.8' 'declined,afgewezen,1,1,0.3,0.3' \
	'unreachable,onbereikbaar,1,1,1.3,1.3' > want.csv
ok_if cmp want.csv out.csv

t "--table partners: the same per receiving partner"
plein -C s report --csv --table partners --from 2026-04-01 > out.csv
printf '%s\r\n' 'partner,partner_label,count,new,contacted,appointment,done,declined,unreachable,unknown,closed,median_days,avg_days' \
	'P,Formulierenbrigade,2,0,0,0,0,1,1,0,2,0.8,0.8' 'T,Taalhuis,2,0,0,0,2,0,0,0,2,1.8,1.8' \
	',(geen),1,1,0,0,0,0,0,0,0,,' > want.csv
ok_if cmp want.csv out.csv

# Sign-ups as staff make them: a workshop of 2 places, a third waitlisted.
loc=$(plein -C s location add --name "Bibliotheek Delden" --kind branch)
klik=$(plein -C s offering add --partner P --theme digitaal --kind workshop --title "Klik & Tik, deel 1" --capacity 2 --signup)
rule=$(plein -C s rule add --offering "$klik" --location "$loc" --rrule "FREQ=WEEKLY;BYDAY=TU" --start 10:00 --end 12:00 --from 2026-04-01)
s1=$(plein -C s signup add --rule "$rule" --date 2026-04-07 --who "Een")
s2=$(plein -C s signup add --rule "$rule" --date 2026-04-07 --who "Twee")
s3=$(plein -C s signup add --rule "$rule" --date 2026-04-07 --who "Drie")
s4=$(plein -C s signup add --rule "$rule" --date 2026-05-05 --who "Vier")
plein -C s signup set "$s1" --status attended >/dev/null
plein -C s signup set "$s2" --status no_show >/dev/null
plein -C s signup set "$s4" --status cancelled >/dev/null

t "--table signups: sign-ups, cancellations and no-shows per offering and month"
plein -C s report --csv --table signups > out.csv
printf '%s\r\n' 'offering,offering_label,partner_label,month,signups,booked,waitlisted,cancelled,attended,no_show' \
	"$klik,\"Klik & Tik, deel 1\",Formulierenbrigade,2026-04,3,0,1,0,1,1" \
	"$klik,\"Klik & Tik, deel 1\",Formulierenbrigade,2026-05,1,0,0,1,0,0" > want.csv
ok_if cmp want.csv out.csv

t "the sign-up period is by occurrence date"
ok_if test "$(plein -C s report --csv --table signups --from 2026-05-01 | wc -l)" -eq 2

t "the report never shows who signed up"
ok_if test "$(plein -C s report --json | grep -c 'Twee\|Drie')" -eq 0

# IDO: a site-added agency and kinds of question.
sqlite3 s/plein.db "
INSERT INTO term(id, scheme, code, label) VALUES ('x-rdw', 'agency', 'rdw', 'RDW');
INSERT INTO visit(id, location_id, at) VALUES ('v4', 'A', '2026-03-30T09:00:00Z');
INSERT INTO question(id, visit_id, theme, kind, agency, solved) VALUES ('q5', 'v4', 'overheid', 'brief', 'rdw', 1),
  ('q6', 'v4', 'overheid', 'formulier', 'gemeente', 0);
"

t "--table agencies: every IDO government body in the IDO's order, then the site's own"
plein -C s report --csv --table agencies --to 2026-03-31 > out.csv
printf '%s\r\n' 'agency,agency_label,visits,questions,solved,referred' \
	'belastingdienst,Belastingdienst,1,1,1,0' 'toeslagen,Toeslagen,0,0,0,0' 'digid,DigiD,1,1,0,1' \
	'uwv,UWV,0,0,0,0' 'svb,SVB,0,0,0,0' 'duo,DUO,0,0,0,0' 'cjib,CJIB,0,0,0,0' 'cak,CAK,0,0,0,0' \
	'cbr,CBR,0,0,0,0' 'ciz,CIZ,0,0,0,0' 'gemeente,Gemeente,1,1,0,0' 'rdw,RDW,1,1,1,0' > want.csv
ok_if cmp want.csv out.csv

t "--table kinds: every IDO kind of question, then the unrecorded"
plein -C s report --csv --table kinds --to 2026-03-31 > out.csv
printf '%s\r\n' 'kind,kind_label,visits,questions,solved,referred' \
	'informatie,Informatie of uitleg,0,0,0,0' 'formulier,Hulp bij een formulier,1,1,0,0' \
	'brief,Brief lezen of begrijpen,1,1,1,0' 'inloggen,"Inloggen, DigiD of account",0,0,0,0' \
	'aanvraag,Aanvraag of aanmelding,0,0,0,0' 'betaling,Betaling of regeling,0,0,0,0' 'overig,Overig,0,0,0,0' \
	',(onbekend),1,2,1,1' > want.csv
ok_if cmp want.csv out.csv

t "--by kind groups by the kind of question"
ok_if grep -qxE 'Brief lezen of begrijpen +1 +1 +1 +0' <(plein -C s report --by kind --to 2026-03-31)

t "the JSON has every table, with the same numbers as the CSV"
plein -C s report --json --from 2026-04-01 > all.json
ok_if python3 -c '
import json
d = json.load(open("all.json"))
done = [x for x in d["referrals"] if x["status"] == "done"][0]
assert (done["count"], done["closed"], done["median_days"], done["avg_days"]) == (2, 2, 1.8, 1.8), done
assert [p["partner_label"] for p in d["referrals_by_partner"]] == ["Formulierenbrigade", "Taalhuis", "(geen)"]
assert [(x["month"], x["signups"], x["no_show"]) for x in d["signups"]] == [("2026-04", 3, 1), ("2026-05", 1, 0)]
assert [a["agency"] for a in d["ido"]["agencies"]][:11] == ["belastingdienst", "toeslagen", "digid", "uwv", "svb",
    "duo", "cjib", "cak", "cbr", "ciz", "gemeente"]
assert len(d["ido"]["kinds"]) >= 7
'

t "an unknown --table is refused"
expect_fail 1 "no report table 'ido'.*counts, referrals, partners, signups, agencies or kinds" plein -C s report --csv --table ido
t "--table without --csv is refused"
expect_fail 1 "add --csv" plein -C s report --table signups

t "a report changes nothing"
d1=$(plein -C s digest); st1=$(plein -C s status --json)
plein -C s report --by month --json >/dev/null
ok_if test "$d1" = "$(plein -C s digest)" -a "$st1" = "$(plein -C s status --json)"

t "an unknown --by value is refused"
expect_fail 1 "cannot report by 'thema'.*theme, location, partner, agency, kind or month" plein -C s report --by thema

t "the same --by twice is refused"
expect_fail 1 "'theme'.*twice" plein -C s report --by theme --by location --by theme

t "a bad --from date is refused"
expect_fail 1 "--from '2026-13-01' is not a date" plein -C s report --from 2026-13-01

t "a bad --to date is refused"
expect_fail 1 "--to '31-03-2026' is not a date" plein -C s report --to 31-03-2026

t "a period that ends before it begins is refused"
expect_fail 1 "ends before it begins" plein -C s report --from 2026-04-02 --to 2026-04-01

t "--csv with --json is refused"
expect_fail 1 "choose one" plein -C s report --csv --json

t "a stray argument is refused"
expect_fail 1 "too many arguments" plein -C s report theme

t "outside a site it says how to make one"
expect_fail 1 "no plein site" plein -C nowhere report

done_testing
