#!/usr/bin/env bash
# Two sites of one network syncing through a bare repository on a "USB
# stick" (a path): a joining site's changes are held until the
# coordinator's admission reaches the holder, then applied; both end with
# one digest, which each rebuilds from its log.
. "$(dirname "$0")/lib.sh"

# The stick is plugged in (a folder with something on it stands in for a
# mounted drive); the repository is not there yet.
mkdir -p "$TMP/stick" && echo "foto's" > "$TMP/stick/vakantie.jpg"
stick="$TMP/stick/plein.git"
plein init coord --new-network "Regio Twente" --name "Coördinatie" >/dev/null
plein -C coord card > card.txt
id_b=$(plein init borne --card card.txt --name "Bibliotheek Borne" --role branch)
L=$(plein -C borne location add --name "Borne" --kind branch)

t "a sync to an unplugged stick (an empty folder, no drive mounted there) is refused; nothing is created"
mkdir "$TMP/usb"
expect_fail 1 "is the stick plugged in?.*Nothing was created" plein -C borne sync "$TMP/usb/plein.git"
expect_fail 1 "is the stick plugged in?" plein -C borne sync "$TMP/usb"
t "... and nothing was created in the empty folder"
ok_if test -z "$(ls -A "$TMP/usb")"

t "a fresh, empty stick that is mounted becomes a relay at the first sync"
# A copy of borne syncs: inside the mount namespace its plein.db may look
# moved (another device number), and borne itself must stay unrestored.
if unshare -rm true 2>/dev/null; then
	cp -a borne borne.mnt
	ok_if unshare -rm sh -c "mount -t tmpfs stick '$TMP/usb' && '$PLEIN' -C borne.mnt sync '$TMP/usb' >/dev/null &&
		git --git-dir '$TMP/usb' rev-parse --is-bare-repository >/dev/null && test -n \"\$(git --git-dir '$TMP/usb' for-each-ref refs/plein/sites)\""
else
	n=$((n + 1)); echo "ok $n - $name # SKIP no mount namespace here (unshare -rm)"
fi

t "a sync to a missing stick path creates the repository there"
ok_if sh -c "'$PLEIN' -C borne sync '$stick' >/dev/null && git --git-dir '$stick' rev-parse --is-bare-repository >/dev/null"

t "the coordinator holds a site that is not admitted yet, and applies nothing of it"
out=$(plein -C coord sync "$stick" 2>err.txt)
if echo "$out" | grep -q "1 held" && grep -q "not on the roster" err.txt && \
   [ "$(plein -C coord location list --json)" = "[]" ]; then pass; else fail "$out / $(cat err.txt)"; fi

t "admit finds the site's key in the held batch"
ok_if sh -c "'$PLEIN' -C coord admit '$id_b' --name 'Bibliotheek Borne' --role branch >/dev/null"

t "after the admission, the held batch is applied"
plein -C coord sync "$stick" >/dev/null 2>&1
ok_if test "$(plein -C coord location list --json | grep -c "$L")" = 1

t "the joining site learns it was admitted"
plein -C borne sync "$stick" >/dev/null
ok_if sh -c "'$PLEIN' -C borne sites --json | grep -q '\"name\":\"Bibliotheek Borne\"'"

t "changes flow both ways and the digests meet"
plein -C coord daylog add --location "$L" --day 2026-11-24 "Overleg met Borne over de inloop" >/dev/null
plein -C borne daylog add --location "$L" --day 2026-11-24 "Rustige ochtend" >/dev/null
plein -C coord sync "$stick" >/dev/null; plein -C borne sync "$stick" >/dev/null; plein -C coord sync "$stick" >/dev/null
ok_if test "$(plein -C coord digest)" = "$(plein -C borne digest)"

t "a sync with nothing new moves no batch"
ok_if sh -c "'$PLEIN' -C borne sync '$stick' | grep -q '0 batches received, 0 sent'"

t "verify rebuilds the same state from the log at both sites"
ok_if sh -c "'$PLEIN' -C coord verify >/dev/null && '$PLEIN' -C borne verify >/dev/null"

t "status remembers the last sync with the stick"
plein -C borne peer add stick "$stick"
plein -C borne sync >/dev/null
ok_if sh -c "'$PLEIN' -C borne peer list --json | grep -q '\"last_ok\":\"20'"

t "bytes out of a stick count what was written to it: more than the payloads of the batches sent"
bytes_out() { plein -C borne status --json | python3 -c "
import json, sys
print(next(p['bytes_out'] for p in json.load(sys.stdin)['peers'] if p['peer'] == 'stick'))"; }
b0=$(bytes_out)
for k in 1 2 3; do
	plein -C borne daylog add --location "$L" "$(head -c 2400 /dev/urandom | base64 -w0)" >/dev/null
done
plein -C borne sync stick >/dev/null
b1=$(bytes_out)
payload=0   # each command seals its own batch: three were sent
for c in $(git --git-dir "$stick" log -3 --format=%H "refs/plein/sites/$id_b"); do
	payload=$((payload + $(git --git-dir "$stick" cat-file -s "$c:payload")))
done
echo "# bytes out: $b0 before, $b1 after; the three batches' payloads are $payload bytes"
ok_if test "$payload" -gt 6000 -a $((b1 - b0)) -gt "$payload" -a $((b1 - b0)) -lt $((payload * 4))

t "bytes in from a stick count what was read from it: more than those payloads"
bytes_in() { plein -C coord status --json | python3 -c "
import json, sys
print(sum(p['bytes_in'] for p in json.load(sys.stdin)['peers']))"; }
i0=$(bytes_in)
plein -C coord sync "$stick" >/dev/null
i1=$(bytes_in)
echo "# bytes in at coord: $i0 before, $i1 after"
ok_if test $((i1 - i0)) -gt "$payload" -a $((i1 - i0)) -lt $((payload * 4))

t "status shows the version vector with both chains and the stick's last sync"
st=$(plein -C borne status --json)
ok_if python3 -c "
import json, sys
d = json.loads(sys.argv[1])
vv = d['version_vector']
assert len(vv) == 2 and all(v >= 1 for v in vv.values()), vv
assert any(p['peer'] == 'stick' and p['last_ok'] for p in d['peers']), d['peers']
" "$st"

t "a peer that cannot be reached is a failure (exit 2) that names it"
plein -C borne peer add weg "git://127.0.0.1:1/nothing.git"
expect_fail 2 "weg" plein -C borne sync weg

t "an unknown peer name is a usage error"
expect_fail 1 "no peer 'nergens'" plein -C borne sync nergens

# A restored backup must not sign a second history (design §5).
cp -a borne borne.backup
plein -C borne daylog add --location "$L" --day 2026-11-25 "Na de back-up geschreven" >/dev/null
plein -C borne sync "$stick" >/dev/null
published=$(git --git-dir "$stick" log --format=%s "refs/plein/sites/$id_b" | head -1)
rm -rf borne && cp -a borne.backup borne   # the disk died; the backup comes back

t "after a restore, a write is saved but not sealed, and says why"
plein -C borne daylog add --location "$L" --day 2026-11-25 "Na het terugzetten" 2>restore.err >/dev/null
ok_if sh -c "grep -q 'restored or copied' restore.err && '$PLEIN' -C borne status --json | grep -q '\"unsealed_changes\":[1-9]'"

t "a sync brings back what it published before, then seals on top: no fork"
plein -C borne sync "$stick" >/dev/null 2>&1
plein -C borne sync "$stick" >/dev/null 2>&1
plein -C coord sync "$stick" >/dev/null 2>&1
ok_if sh -c "git --git-dir '$stick' log --format=%s 'refs/plein/sites/$id_b' | grep -qF '$published' && \
	test \$(git --git-dir '$stick' for-each-ref 'refs/plein/forks' | wc -l) -eq 0"

t "both writes are there, once, at both sites, and the digests meet"
n_b=$(plein -C borne daylog list --json | grep -o 'Na de back-up geschreven\|Na het terugzetten' | wc -l)
n_c=$(plein -C coord daylog list --json | grep -o 'Na de back-up geschreven\|Na het terugzetten' | wc -l)
ok_if test "$n_b" = 2 -a "$n_c" = 2 -a "$(plein -C coord digest)" = "$(plein -C borne digest)"

# Each fetch adds a pack to log.git; past log.maxpacks (default 32) a
# sync first repacks everything into one.
t "past log.maxpacks, a sync repacks log.git into one pack; git fsck and plein verify pass"
packs() { ls "$1"/log.git/objects/pack/*.pack 2>/dev/null | wc -l; }
loose() { find "$1"/log.git/objects -path '*/pack' -prune -o -type f -print | wc -l; }
for k in 1 2 3 4; do
	plein -C borne daylog add --location "$L" "stapel $k" >/dev/null
	plein -C borne sync "$stick" >/dev/null 2>&1
	plein -C coord daylog add --location "$L" "coord $k" >/dev/null
	plein -C coord sync "$stick" >/dev/null 2>&1
done
plein -C borne sync "$stick" >/dev/null 2>&1
before=$(packs coord) loose_before=$(loose coord)
printf '[log]\n\tmaxpacks = 3\n' >> coord/plein.conf
plein -C coord sync "$stick" >/dev/null 2>&1
after=$(packs coord) loose_after=$(loose coord)
echo "# coord's log.git: $before packs and $loose_before loose objects before, $after and $loose_after after"
plein -C coord verify >verify.out 2>&1; vrc=$?
ok_if test "$before" -gt 3 -a "$after" -le 2 -a "$loose_after" -lt "$loose_before" -a "$vrc" = 0 \
	-a -z "$(git --git-dir coord/log.git fsck --strict 2>&1 | grep -v '^notice: HEAD points to an unborn branch')" \
	-a "$(plein -C coord digest)" = "$(plein -C borne digest)"

# plein.db is a cache of log.git: a lost one comes back from the log.
t "a site whose plein.db is gone rebuilds it from log.git: same digest, it verifies"
want=$(plein -C coord digest)
card_coord=$(plein -C coord card); card_borne=$(plein -C borne card)
mv coord/plein.db coord/plein.db.lost; rm -f coord/plein.db-wal coord/plein.db-shm
got=$(plein -C coord digest 2>rebuild.err)
plein -C coord verify >verify.out 2>&1; vrc=$?
ok_if test "$got" = "$want" -a "$vrc" = 0 -a ! -s rebuild.err \
	-a "$(plein -C coord status --json | grep -o '"role":"[a-z]*"')" = '"role":"coordinator"'

t "... and it knows its network's name again: plein card prints the same card"
ok_if test "$(plein -C coord card 2>&1)" = "$card_coord"

t "a joining site rebuilt from log.git learns the network's name from the coordinator's chain"
mv borne/plein.db borne/plein.db.lost; rm -f borne/plein.db-wal borne/plein.db-shm
got=$(plein -C borne card 2>&1)
ok_if test "$got" = "$card_borne" -a "$(plein -C borne status --json | grep -o '"network":"[^"]*"')" = '"network":"Regio Twente"'

t "... it seals again after a sync, and its writes reach the other site"
plein -C coord sync "$stick" >/dev/null 2>&1
row=$(plein -C coord daylog add --location "$L" "na het herbouwen" 2>rebuild.err)
plein -C coord sync "$stick" >/dev/null 2>&1; plein -C borne sync "$stick" >/dev/null 2>&1
ok_if test ! -s rebuild.err -a "$(plein -C borne daylog list --json | grep -c "$row")" = 1 \
	-a "$(plein -C coord digest)" = "$(plein -C borne digest)"

done_testing
