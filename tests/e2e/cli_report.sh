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

doorverwijzingen (aangemaakt in de periode)
status       label             count
new          nieuw                 1
contacted    contact gelegd        0
appointment  afspraak gemaakt      1
done         afgerond              0
declined     afgewezen             0
unreachable  onbereikbaar          0
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
{"from":"2026-04-01","to":"2026-04-30","tz":"Europe/Amsterdam","by":["month"],"rows":[{"month":"2026-04","visits":2,"questions":2,"solved":1,"referred":1}],"total":{"visits":2,"questions":2,"solved":1,"referred":1},"referrals":[{"status":"new","label":"nieuw","count":1},{"status":"contacted","label":"contact gelegd","count":0},{"status":"appointment","label":"afspraak gemaakt","count":0},{"status":"done","label":"afgerond","count":0},{"status":"declined","label":"afgewezen","count":0},{"status":"unreachable","label":"onbereikbaar","count":0}]}
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
printf '%s\r\n' 'status,label,count' 'new,nieuw,1' 'contacted,contact gelegd,0' 'appointment,afspraak gemaakt,0' \
	'done,afgerond,0' 'declined,afgewezen,0' 'unreachable,onbereikbaar,0' > want.csv
ok_if cmp want.csv out.csv

t "--by partner shows names and (geen)"
plein -C s report --by partner > out.txt
partner_rows() { grep -qxE 'Formulierenbrigade +2 +2 +2 +0' out.txt && grep -qxE '\(geen\) +2 +2 +0 +2' out.txt; }
ok_if partner_rows

t "a report changes nothing"
d1=$(plein -C s digest); st1=$(plein -C s status --json)
plein -C s report --by month --json >/dev/null
ok_if test "$d1" = "$(plein -C s digest)" -a "$st1" = "$(plein -C s status --json)"

t "an unknown --by value is refused"
expect_fail 1 "cannot report by 'thema'.*theme, location, partner, agency or month" plein -C s report --by thema

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
