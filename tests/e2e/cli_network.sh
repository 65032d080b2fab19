#!/usr/bin/env bash
# The network from the command line: a coordinator, its card, a site that
# joins with the card, admission (with --key or from a batch that reached
# the coordinator), revocation, the roster, and every refusal.
. "$(dirname "$0")/lib.sh"

# jq-free JSON checks: python3 reads the roster.
field() { # field JSON ID KEY: that site's KEY
	python3 -c 'import json,sys; r=[s for s in json.loads(sys.argv[1]) if s["id"]==sys.argv[2]]; print(json.dumps(r[0][sys.argv[3]]) if r else "missing")' "$1" "$2" "$3"
}
state() { # what must not change: the digest and every ref of the log
	plein -C "$1" digest
	git --git-dir "$1/log.git" for-each-ref --format='%(refname) %(objectname)'
}

t "init --new-network: the coordinator's roster row is its first batch"
co=$(plein init "$TMP/co" --new-network "Regio Twente" --name "Bibliotheek Hengelo")
ok_if sh -c "git --git-dir co/log.git rev-parse --verify -q 'refs/plein/sites/$co' >/dev/null"

t "... and so is the network's name, for every site and for a rebuild (schema 6)"
ok_if test "$(sqlite3 co/plein.db "SELECT name FROM network")" = "Regio Twente" \
	-a "$(git --git-dir co/log.git log --format=%s "refs/plein/sites/$co" | wc -l)" = 1

t "a coordinator from before schema 6 (no network row) writes it at its next command, once"
cp -a co old
sqlite3 old/plein.db "UPDATE plein_clock SET applying = 1; DELETE FROM network; UPDATE plein_clock SET applying = 0"
plein -C old sites >/dev/null; plein -C old sites >/dev/null
ok_if test "$(sqlite3 old/plein.db "SELECT name FROM network")" = "Regio Twente" \
	-a "$(git --git-dir old/log.git log --format=%s "refs/plein/sites/$co" | wc -l)" = 2
rm -rf old

t "the coordinator is on its own roster, admitted, marked as this site and admin"
js=$(plein -C co sites --json)
ok_if test "$(field "$js" "$co" role)/$(field "$js" "$co" status)/$(field "$js" "$co" this_site)/$(field "$js" "$co" admin)" \
	= '"coordinator"/"toegelaten"/true/true'

t "card: magic first, network, network-id, admin, the peers, the check"
plein -C co card --peer tcp://hengelo.example:7411 --peer /media/usb/plein.git > card.txt
ok_if sh -c "head -1 card.txt | grep -qx 'plein network card 1' &&
	grep -qx 'network: Regio Twente' card.txt &&
	grep -qE '^network-id: [0-9a-f]{32}$' card.txt &&
	grep -qx \"admin: \$('$PLEIN' -C co id --key)\" card.txt &&
	test \$(grep -c '^peer: ' card.txt) -eq 2 &&
	grep -qE '^check: [0-9a-f]{16}$' card.txt"

t "id --key: 64 hex characters"
ok_if sh -c "'$PLEIN' -C co id --key | grep -qxE '[0-9a-f]{64}'"

t "init --card: a new site of the same network, with the card's peers"
br=$(plein init "$TMP/br" --card card.txt --name "Bibliotheek Delden" --role branch)
ok_if test -n "$br" -a "$br" != "$co"

t "the joined site has the network's name and id, its role, and no admin powers"
sc=$(plein -C co status --json); sb=$(plein -C br status --json)
nid() { echo "$1" | sed 's/.*"network_id":"\([0-9a-f]*\)".*/\1/'; }
ok_if sh -c "test '$(nid "$sc")' = '$(nid "$sb")' && echo '$sb' | grep -q '\"role\":\"branch\"' && echo '$sb' | grep -q '\"network\":\"Regio Twente\"'"

t "the card's peers are in plein.conf"
ok_if sh -c "grep -qx '\[peer \"peer1\"\]' br/plein.conf && grep -qx 'url = tcp://hengelo.example:7411' br/plein.conf &&
	grep -qx 'url = /media/usb/plein.git' br/plein.conf"

t "the default role of a joining site is branch"
plein init "$TMP/mob" --card card.txt --name "Plein op wielen" >/dev/null
ok_if sh -c "'$PLEIN' -C mob status --json | grep -q '\"role\":\"branch\"'"

t "a joining site is not on its own roster until the admission reaches it"
ok_if test "$(plein -C br sites --json)" = "[]"

t "a non-coordinator cannot admit"
expect_fail 1 "only the coordinator of \"Regio Twente\" can admit sites" \
	plein -C br admit "$br" --name X --role branch --key "$(plein -C br id --key)"

t "a non-coordinator cannot revoke"
expect_fail 1 "only the coordinator of \"Regio Twente\" can revoke sites" plein -C br revoke "$co"

t "admit without --key and without any batch of the site is refused"
expect_fail 1 "no batch from $br has reached this site yet; pass --key" plein -C co admit "$br" --name Delden --role branch

t "admit with a key of another site is refused"
expect_fail 1 "--key belongs to site" plein -C co admit "$br" --name Delden --role branch --key "$(plein -C mob id --key)"

t "every bad input exits 1 with one line and changes nothing"
before=$(state co)
bad=0
check() { local err; err=$("$@" 2>&1 >/dev/null); local rc=$?
	if [ $rc -ne 1 ] || [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ] || ! printf '%s' "$err" | grep -q '^plein: '; then
		echo "# rc=$rc: $* -> $err"; bad=1; fi; }
check plein -C co admit "$br" --name Delden --role chef --key "$(plein -C br id --key)"
check plein -C co admit "$br" --name "" --role branch --key "$(plein -C br id --key)"
check plein -C co admit "$br" --name Delden --role branch --key abc
check plein -C co admit NOT-A-SITE --name Delden --role branch
check plein -C co admit "$br" --name Delden --role branch --location nowhere --key "$(plein -C br id --key)"
check plein -C co admit "$br" --role branch --key "$(plein -C br id --key)"
check plein -C co admit --name Delden --role branch
check plein -C co revoke "$co"
check plein -C co revoke "$br"
check plein -C co revoke nonsense
check plein -C co card --peer "two words"
check plein -C co card --peer ""
check plein -C co sites extra
check plein -C co id --key extra
ok_if test $bad -eq 0 -a "$before" = "$(state co)"

t "admit with --key prints the site id"
ok_if test "$(plein -C co admit "$br" --name "Bibliotheek Delden" --role branch --key "$(plein -C br id --key)")" = "$br"

t "sites --json on the coordinator shows both, the new one admitted"
js=$(plein -C co sites --json)
ok_if test "$(field "$js" "$br" name)/$(field "$js" "$br" status)/$(field "$js" "$br" this_site)/$(field "$js" "$co" role)" \
	= '"Bibliotheek Delden"/"toegelaten"/false/"coordinator"'

t "the admission is captured and sealed into the coordinator's chain"
ok_if test "$(git --git-dir co/log.git log --format=%s "refs/plein/sites/$co" | wc -l)" -eq 2

t "admitting again unchanged writes nothing"
before=$(state co)
plein -C co admit "$br" --name "Bibliotheek Delden" --role branch --key "$(plein -C br id --key)" >/dev/null
ok_if test "$before" = "$(state co)"

t "sites as a table names the status in Dutch and marks this site"
ok_if sh -c "'$PLEIN' -C co sites | grep '$co' | grep -q 'deze site' && '$PLEIN' -C co sites | grep '$br' | grep -q toegelaten"

t "admit with --location shows the location's name"
loc=$(plein -C co location add --name "Bibliotheek Delden" --kind branch)
plein -C co admit "$br" --name "Bibliotheek Delden" --role branch --location "$loc" >/dev/null
js=$(plein -C co sites --json)
ok_if test "$(field "$js" "$br" location_id)/$(field "$js" "$br" location)" = "\"$loc\"/\"Bibliotheek Delden\""

t "revoke: what the site published so far stays valid"
plein -C co revoke "$br"
js=$(plein -C co sites --json)
ok_if test "$(field "$js" "$br" status)/$(field "$js" "$br" revoked_after)" = '"ingetrokken na batch 0"/0'

t "revoking twice is refused"
expect_fail 1 "already revoked after batch 0" plein -C co revoke "$br"

t "the coordinator cannot be revoked"
expect_fail 1 "holds the network's admin key and cannot be revoked" plein -C co revoke "$co"

t "a site not on the roster cannot be revoked"
expect_fail 1 "is not on the roster" plein -C co revoke "$(plein -C mob id)"

t "admitting a revoked site again clears the revocation (key from the roster)"
plein -C co admit "$br" --name "Bibliotheek Delden" --role partner >/dev/null
js=$(plein -C co sites --json)
ok_if test "$(field "$js" "$br" status)/$(field "$js" "$br" revoked_after)/$(field "$js" "$br" role)" = '"toegelaten"/null/"partner"'

t "admit without --key takes the key from a batch that reached the coordinator"
plein -C mob location add --name "Wijkcentrum" --kind community >/dev/null
mob=$(plein -C mob id)
git --git-dir co/log.git fetch -q "$TMP/mob/log.git" "refs/plein/sites/$mob:refs/plein/incoming/stick/$mob"
ok_if test "$(plein -C co admit "$mob" --name "Plein op wielen" --role mobile)" = "$mob"

t "that key is the site's own"
js=$(plein -C co sites --json)
ok_if test "$(field "$js" "$mob" key)" = "\"$(plein -C mob id --key)\""

t "a site id typed in lower case names the same site"
low=$(echo "$mob" | tr 'A-Z' 'a-z')
ok_if test "$(plein -C co admit "$low" --name "Plein op wielen" --role mobile)" = "$mob"

t "revoking after a batch keeps that batch: ingetrokken na batch 1"
git --git-dir co/log.git fetch -q "$TMP/mob/log.git" "refs/plein/sites/$mob:refs/plein/sites/$mob"
plein -C co revoke "$mob"
ok_if test "$(field "$(plein -C co sites --json)" "$mob" revoked_after)" = 1

t "a card with a flipped character is refused, and no site is made"
sed 's/Regio Twente/Regio Twenre/' card.txt > flipped.txt
expect_fail 1 "network card flipped.txt: line 7: the check does not match" plein init "$TMP/x1" --card flipped.txt --name X

t "... the directory was not created"
ok_if test ! -e x1

t "a file that is not a card is refused"
echo "hello" > notacard.txt
expect_fail 1 "line 1: not a plein network card" plein init "$TMP/x2" --card notacard.txt --name X

t "a missing card file is refused"
expect_fail 1 "cannot read the network card nocard.txt" plein init "$TMP/x3" --card nocard.txt --name X

t "init --card needs --name"
expect_fail 1 "needs --name SITE" plein init "$TMP/x4" --card card.txt

t "init --card refuses the coordinator role"
expect_fail 1 "--role" plein init "$TMP/x5" --card card.txt --name X --role coordinator

t "--card and --new-network together are refused"
expect_fail 1 "not both" plein init "$TMP/x6" --card card.txt --new-network Y

t "--role without --card is refused"
expect_fail 1 "--role is for a site joining with --card" plein init "$TMP/x7" --new-network Y --role branch

t "none of the refused inits left a directory"
ok_if test ! -e x2 -a ! -e x3 -a ! -e x4 -a ! -e x5 -a ! -e x6 -a ! -e x7

done_testing
