#!/usr/bin/env bash
# Privacy by design (design §8, docs/sealed.md, docs/erasure.md): a
# network of a coordinator, two branches and a partner with its own site,
# syncing through a bare repository. A visitor's contact details reach
# only the referring site and the partner's; the others hold ciphertext
# and nothing else. After 'plein forget', and after the retention periods,
# no site holds even the ciphertext — not in plein.db, not in its WAL, not
# in any object of log.git — every log still verifies, and a branch that
# was offline during the erasure loses the data too when it comes back,
# without bringing it back to anyone.
. "$(dirname "$0")/lib.sh"

relay="$TMP/relay.git"
NAME="Jantje Bezoekersnaam"; PHONE="0687654321"; EMAIL="jantje.bezoeker@example.nl"
WHO="Pietje Deelnemersnaam"

sync_all() { for s in "$@"; do plein -C "$s" sync "$relay" >/dev/null 2>&1 || return 1; done; }

# holds DIR NEEDLE: the needle (text or hex:...) is somewhere in the site's
# plein.db, plein.db-wal, the raw files of log.git, or any object of
# log.git as git decompresses it (every object, reachable or not; loose
# objects also inflated here by zlib).
holds() {
	python3 - "$1" "$2" "${3:-}" <<'EOF'
import os, subprocess, sys, zlib
d, needle, only_log = sys.argv[1], sys.argv[2], sys.argv[3] == 'log'

n = bytes.fromhex(needle[4:]) if needle.startswith('hex:') else needle.encode()
def found(b):
    return n in b
for f in () if only_log else ('plein.db', 'plein.db-wal'):
    p = os.path.join(d, f)
    if os.path.exists(p) and found(open(p, 'rb').read()):
        print(f); sys.exit(0)
g = os.path.join(d, 'log.git')
if not os.path.isdir(g):   # a bare relay repository
    g = d
for root, _, files in os.walk(g):
    for f in files:
        p = os.path.join(root, f)
        b = open(p, 'rb').read()
        if found(b):
            print(p); sys.exit(0)
        if '/objects/' in p and len(f) == 38:
            if found(zlib.decompress(b)):
                print('loose', p); sys.exit(0)
out = subprocess.run(['git', '--git-dir', g, 'cat-file', '--batch-all-objects', '--batch'],
                     capture_output=True, check=True).stdout
# Every object's content, and inflated too where it is zlib data (a
# personal part is stored compressed).
i = 0
while i < len(out):
    nl = out.index(b'\n', i)
    size = int(out[i:nl].split()[2])
    body = out[nl + 1:nl + 1 + size]
    i = nl + 2 + size
    if found(body):
        print('object'); sys.exit(0)
    try:
        if found(zlib.decompress(body)):
            print('inflated object'); sys.exit(0)
    except zlib.error:
        pass
sys.exit(1)
EOF
}

# --- the network -----------------------------------------------------------
plein init coord --new-network "Regio Twente" --name "Coördinatie" >/dev/null
plein -C coord card > card.txt
id_a=$(plein init hengelo --card card.txt --name "Bibliotheek Hengelo" --role branch)
id_b=$(plein init borne --card card.txt --name "Bibliotheek Borne" --role branch)
id_p=$(plein init taalhuis --card card.txt --name "Taalhuis" --role partner)
LA=$(plein -C coord location add --name "Hengelo Centrum" --kind branch)
LB=$(plein -C coord location add --name "Borne" --kind branch)
plein -C coord admit "$id_a" --name "Bibliotheek Hengelo" --role branch --location "$LA" --key "$(plein -C hengelo id --key)" >/dev/null
plein -C coord admit "$id_b" --name "Bibliotheek Borne" --role branch --location "$LB" --key "$(plein -C borne id --key)" >/dev/null
plein -C coord admit "$id_p" --name "Taalhuis" --role partner --key "$(plein -C taalhuis id --key)" >/dev/null
P=$(plein -C coord partner add --name "Taalhuis" --referral-method call --site "$id_p")
P2=$(plein -C coord partner add --name "Humanitas" --referral-method call)
O=$(plein -C coord offering add --partner "$P" --theme taal --kind workshop --title "Taalcafé" --capacity 10 --signup)
RULE=$(plein -C coord rule add --offering "$O" --location "$LA" --rrule "FREQ=WEEKLY;BYDAY=TU" --start 10:00 --end 12:00 --from 2026-11-03)
sync_all coord hengelo borne taalhuis coord hengelo borne taalhuis

t "every site knows the network and the partner's site"
ok_if test "$(plein -C taalhuis partner list --json | grep -c "$id_p")" = 1 -a "$(plein -C hengelo partner list --json | grep -c "$id_p")" = 1

# --- sealed to whom it concerns -------------------------------------------
R=$(plein -C hengelo referral add --to "$P" --theme taal --contact-name "$NAME" --contact-phone "$PHONE" --contact-email "$EMAIL")
R2=$(plein -C hengelo referral add --to "$P2" --theme taal --contact-name "$NAME")
S=$(plein -C borne signup add --rule "$RULE" --date 2026-11-10 --who "$WHO")
sync_all hengelo coord borne taalhuis hengelo

t "the referring site and the partner's site can read the contact details"
ok_if sh -c "'$PLEIN' -C hengelo referral show '$R' --json | grep -q '\"phone\":\"$PHONE\"' &&
	'$PLEIN' -C taalhuis referral show '$R' --json | grep -q '\"email\":\"$EMAIL\"'"

t "the coordinator and the other branch cannot, and are told so"
ok_if sh -c "'$PLEIN' -C coord referral show '$R' | grep -q 'versleuteld, alleen leesbaar voor' &&
	'$PLEIN' -C borne referral show '$R' --json | grep -q '\"contact_readable\":false' &&
	! '$PLEIN' -C borne referral show '$R' | grep -q '$PHONE'"

t "a partner without a site: the details stay with the referring site"
ok_if sh -c "'$PLEIN' -C hengelo referral show '$R2' | grep -q 'alleen leesbaar voor deze site' &&
	'$PLEIN' -C hengelo referral show '$R2' --json | grep -q '\"sealed_for\":\[{[^]]*}\]' &&
	'$PLEIN' -C taalhuis referral show '$R2' --json | grep -q '\"contact_readable\":false'"

t "a sign-up's name (taken at Borne): Borne, the hosting location's site and the offering partner's, not the coordinator"
ok_if sh -c "'$PLEIN' -C borne signup list --rule '$RULE' --date 2026-11-10 | grep -q '$WHO' &&
	'$PLEIN' -C hengelo signup list --rule '$RULE' --date 2026-11-10 | grep -q '$WHO' &&
	'$PLEIN' -C taalhuis signup list --rule '$RULE' --date 2026-11-10 | grep -q '$WHO' &&
	! '$PLEIN' -C coord signup list --rule '$RULE' --date 2026-11-10 | grep -q '$WHO'"

t "no site holds the plaintext in plein.db, its WAL or any object of log.git"
bad=""
for s in coord borne hengelo taalhuis; do
	for x in "$NAME" "$PHONE" "$EMAIL" "$WHO"; do
		if where=$(holds "$s" "$x"); then bad="$bad $s:$x@$where"; fi
	done
done
ok_if test -z "$bad"

# The ciphertext itself, as every replica holds it: its last 32 bytes.
ct=$(sqlite3 hengelo/plein.db "SELECT substr(hex(contact), -64) FROM referral WHERE id = '$R'")
ctw=$(sqlite3 borne/plein.db "SELECT substr(hex(who), -64) FROM signup WHERE id = '$S'")

t "the ciphertext travelled to every site (stored and forwarded)"
ok_if sh -c "test -n '$ct' && for s in coord borne hengelo taalhuis; do
	test \"\$(sqlite3 \$s/plein.db \"SELECT substr(hex(contact), -64) FROM referral WHERE id = '$R'\")\" = '$ct' || exit 1; done"

t "...and sits in every site's log.git, inside the batch's personal part"
bad=""
for s in coord borne hengelo taalhuis; do holds "$s" "hex:$ct" log >/dev/null || bad="$bad $s"; done
ok_if test -z "$bad"

# --- forget, with borne offline ----------------------------------------------
t "forget erases the referral's contact details here and says so"
ok_if sh -c "'$PLEIN' -C hengelo forget --referral '$R' | grep -q '^gewist: .*1 waarde'"

sync_all hengelo coord taalhuis coord hengelo

t "after forget no online site can read them, and referral show says they were erased"
ok_if sh -c "for s in hengelo taalhuis coord; do '$PLEIN' -C \$s referral show '$R' --json | grep -q '\"has_contact\":false,\"contact_erased\":\"gewist (op verzoek)' || exit 1; done &&
	'$PLEIN' -C taalhuis referral show '$R' | grep -q 'gewist'"

t "after forget no online site holds the ciphertext in plein.db, WAL or log.git"
bad=""
for s in hengelo taalhuis coord; do where=$(holds "$s" "hex:$ct") && bad="$bad $s@$where"; done
ok_if test -z "$bad"

# relay_holds NEEDLE_HEX: among the objects the relay hands out (reachable).
relay_holds() {
	git --git-dir "$relay" rev-list --objects --all | cut -d' ' -f1 | git --git-dir "$relay" cat-file --batch |
		python3 -c '
import sys, zlib
n, out, i = bytes.fromhex(sys.argv[1]), sys.stdin.buffer.read(), 0
while i < len(out):
    nl = out.index(b"\n", i)
    size = int(out[i:nl].split()[2])
    body = out[nl + 1:nl + 1 + size]
    i = nl + 2 + size
    try:
        body += zlib.decompress(body)
    except zlib.error:
        pass
    if n in body:
        sys.exit(0)
sys.exit(1)' "$1"
}

t "the relay (a local bare repository) hands out the purged part only, and keeps no copy of the old"
if relay_holds "$ct"; then fail "the relay still hands out the ciphertext"
elif where=$(holds "$relay" "hex:$ct"); then fail "the relay keeps the ciphertext in $where"
else pass; fi

t "every online site still verifies its logs and rebuilds the same state"
ok_if sh -c "for s in hengelo taalhuis coord; do '$PLEIN' -C \$s verify >/dev/null || exit 1; done &&
	test \"\$('$PLEIN' -C hengelo digest)\" = \"\$('$PLEIN' -C coord digest)\""

t "the offline branch still holds the ciphertext before it syncs"
if holds borne "hex:$ct" >/dev/null; then pass; else fail "borne lost the ciphertext before it synced"; fi

t "the branch that was offline ends without the data after its sync"
sync_all borne
ok_if sh -c "'$PLEIN' -C borne referral show '$R' --json | grep -q '\"has_contact\":false'"

t "...not even the ciphertext, and it verifies"
where=$(holds borne "hex:$ct")
ok_if sh -c "test -z '$where' && '$PLEIN' -C borne verify >/dev/null"

t "and it did not bring the data back to anyone"
sync_all coord taalhuis hengelo
bad=""
for s in hengelo taalhuis coord; do where=$(holds "$s" "hex:$ct") && bad="$bad $s@$where"; done
if relay_holds "$ct" || holds "$relay" "hex:$ct" >/dev/null; then bad="$bad relay"; fi
ok_if test -z "$bad"

# --- retention ---------------------------------------------------------------
t "a sign-up's name is kept until 30 days after the occurrence"
PLEIN_NOW=2026-12-09 plein -C coord status >/dev/null
sync_all coord hengelo taalhuis
ok_if sh -c "'$PLEIN' -C taalhuis signup list --rule '$RULE' --date 2026-11-10 | grep -q '$WHO'"

t "...and erased everywhere after it (PLEIN_NOW), the figures untouched"
PLEIN_NOW=2026-12-11 plein -C coord status >/dev/null
sync_all coord hengelo taalhuis borne coord
bad=""
for s in hengelo taalhuis coord borne; do
	plein -C $s signup list --rule "$RULE" --date 2026-11-10 | grep -q "$WHO" && bad="$bad $s-reads"
	where=$(holds "$s" "hex:$ctw") && bad="$bad $s@$where"
done
ok_if sh -c "test -z '$bad' && test \"\$('$PLEIN' -C coord signup list --rule '$RULE' --date 2026-11-10 --json | grep -o '\"status\":\"booked\"' | wc -l)\" = 1"

t "a referral's contact details are erased when the referral closes"
R3=$(plein -C hengelo referral add --to "$P" --theme taal --contact-phone "$PHONE")
sync_all hengelo taalhuis
plein -C taalhuis referral show "$R3" --json | grep -q "\"phone\":\"$PHONE\"" || fail "taalhuis cannot read R3 before it closes"
plein -C taalhuis referral set "$R3" --status done >/dev/null
plein -C taalhuis status >/dev/null
sync_all taalhuis hengelo coord borne
ok_if sh -c "for s in hengelo taalhuis coord borne; do '$PLEIN' -C \$s referral show '$R3' --json | grep -q '\"has_contact\":false' || exit 1; done"

t "...and after 90 days when it stays open ([retention] referral_days in plein.conf)"
R4=$(plein -C hengelo referral add --to "$P" --theme taal --contact-name "$NAME")
printf '\n[retention]\nreferral_days = 10\n' >> hengelo/plein.conf
PLEIN_NOW=$(( $(date +%s) + 11 * 86400 )) plein -C hengelo status >/dev/null
sync_all hengelo taalhuis
ok_if sh -c "'$PLEIN' -C taalhuis referral show '$R4' --json | grep -q '\"has_contact\":false'"

t "every site verifies after all the purges, with one digest"
sync_all coord hengelo borne taalhuis coord hengelo borne taalhuis
ok_if sh -c "for s in coord hengelo borne taalhuis; do '$PLEIN' -C \$s verify >/dev/null || exit 1; done &&
	d=\$('$PLEIN' -C coord digest) && for s in hengelo borne taalhuis; do test \"\$('$PLEIN' -C \$s digest)\" = \"\$d\" || exit 1; done"

t "the aggregate figures survive erasure: four referrals, three open and one done"
rep=$(plein -C coord report --referrals --json)
if python3 -c "
import json, sys
d = json.loads(sys.argv[1])
c = {r['status']: r['count'] for r in d['referrals']}
assert c['new'] == 3 and c['done'] == 1, c
" "$rep"; then pass; else fail "$rep"; fi

t "forget needs exactly one of --referral and --signup, and a known id"
expect_fail 1 "one of them" plein -C hengelo forget

t "forget of an unknown referral changes nothing"
expect_fail 1 "" plein -C hengelo forget --referral NOPE

done_testing
