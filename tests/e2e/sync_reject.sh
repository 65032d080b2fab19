#!/usr/bin/env bash
# Verify-then-apply (design §6, §9.3): every kind of bad batch that can sit
# in a git relay is refused with its reason, nothing of it is applied, and
# the good rest of the same sync still goes through.
#
# One network: coordinator co, branches A (whose chain gets the forged
# batches), G (a good writer), R (the receiver), V (revoked), U (never
# admitted); F runs a network of its own. The template relay holds one new
# good batch of G that R has not seen, so after every refused sync R's
# digest must be exactly D_good: R plus G's batch, nothing of the bad one.
# forge_batch (tests/tools) makes the bad batches with A's own key.
#
# Every case works on copies of the template's sites. A copied site is a
# restored one (design §5): it seals nothing until a peer has confirmed its
# history, so a copy that must write first syncs once with relay0, the
# template relay as it was before G's batch ("thaw").
. "$(dirname "$0")/lib.sh"
FORGE=${FORGE_BATCH:?set FORGE_BATCH to the forge_batch tool}
SYNC_TIMEOUT=${SYNC_TIMEOUT:-30} # a healthy sync here takes seconds

id_key() { plein -C "$1" id --key; }
count() { sqlite3 "$1/plein.db" "$2"; }
has_daylog() { count "$1" "SELECT count(*) FROM daylog WHERE id = '$2'"; }
tip() { git --git-dir "$1" log -1 --format='%(trailers:key=Plein-Seq,valueonly)' "refs/plein/sites/$2" 2>/dev/null | head -1; }

# ---- the template -------------------------------------------------------
tpl=$TMP/tpl
mkdir "$tpl"
plein init "$tpl/co" --new-network "Regio Test" --name co >/dev/null
plein -C "$tpl/co" card > "$tpl/card"
for s in A G R V U; do plein init "$tpl/$s" --card "$tpl/card" --name "$s" >/dev/null; done
for s in A G R V; do plein -C "$tpl/co" admit "$(plein -C "$tpl/$s" id)" --name "$s" --role branch --key "$(id_key "$tpl/$s")" >/dev/null; done
ID_A=$(plein -C "$tpl/A" id); ID_G=$(plein -C "$tpl/G" id); ID_V=$(plein -C "$tpl/V" id)
ID_U=$(plein -C "$tpl/U" id)
L=$(plein -C "$tpl/co" location add --name Centrum --kind branch)
relay=$tpl/relay.git
quiet_sync() { plein -C "$1" sync "$2" >/dev/null 2>&1; }
quiet_sync "$tpl/co" "$relay"
for s in A G R V U; do quiet_sync "$tpl/$s" "$relay"; done
plein -C "$tpl/A" daylog add --location "$L" "A schrijft" >/dev/null
plein -C "$tpl/V" daylog add --location "$L" "V schrijft" >/dev/null
quiet_sync "$tpl/A" "$relay"; quiet_sync "$tpl/V" "$relay"; quiet_sync "$tpl/co" "$relay"
plein -C "$tpl/co" revoke "$ID_V" >/dev/null
quiet_sync "$tpl/co" "$relay"; quiet_sync "$tpl/R" "$relay"
D0=$(plein -C "$tpl/R" digest)
cp -a "$relay" "$tpl/relay0.git"
row_G=$(plein -C "$tpl/G" daylog add --location "$L" "G schrijft")
quiet_sync "$tpl/G" "$relay"
TIP_A=$(tip "$relay" "$ID_A")

t "setup: R holds A's batch and the revocation of V; the relay has G's new batch"
ok_if test "$TIP_A" = 1 -a "$(count "$tpl/R" "SELECT count(*) FROM roster WHERE id = '$ID_V' AND revoked_after = 1")" = 1 \
	-a "$(has_daylog "$tpl/R" "$row_G")" = 0

# What R must hold after any sync with the template relay plus bad batches.
cp -a "$tpl/R" "$TMP/ref"
quiet_sync "$TMP/ref" "$relay"
D_good=$(plein -C "$TMP/ref" digest)
t "setup: a clean sync brings G's batch, which changes R's digest"
ok_if test "$(has_daylog "$TMP/ref" "$row_G")" = 1 -a "$D_good" != "$D0"

# ---- one case = a copy of R and of the relay ----------------------------
nc=0
new_case() { nc=$((nc + 1)); c=$TMP/case$nc; mkdir "$c"; cp -a "$tpl/R" "$tpl/relay.git" "$c/"; }
thaw() { [ -d "$c/relay0.git" ] || cp -a "$tpl/relay0.git" "$c/"; quiet_sync "$1" "$c/relay0.git"; }
forge() { "$FORGE" -C "$tpl/A" --relay "$c/relay.git" "$@"; }
# Sync R with the case's relay: sets rc, out, err.
sync_R() {
	out=$(timeout "$SYNC_TIMEOUT" "$PLEIN" -C "$c/R" sync "$c/relay.git" 2>"$c/err"); rc=$?
	err=$(cat "$c/err")
}
# refused SITE SEQ REASON [ROW]: R's sync exited 2, named that batch and the
# reason on a 'plein:' line, applied G's batch and nothing else (D_good),
# and the forged ROW is absent.
refused() {
	local site=$1 seq=$2 why=$3 row=${4:-}
	sync_R
	if [ "$rc" -ne 2 ]; then fail "exit $rc, expected 2: $err"; return; fi
	if ! printf '%s\n' "$err" | grep -qE "^plein: $c/relay.git: batch $seq of $site: .*$why"; then
		fail "no line naming batch $seq of $site and '$why' in: $err"; return; fi
	local d; d=$(plein -C "$c/R" digest)
	if [ "$d" != "$D_good" ]; then fail "digest $d, expected $D_good (G's batch alone): $err"; return; fi
	if [ -n "$row" ] && [ "$(has_daylog "$c/R" "$row")" != 0 ]; then fail "the forged row $row was applied"; return; fi
	pass
}

t "control: a batch forge_batch makes without a defect is accepted"
new_case; row=$(forge --text "echt"); sync_R
ok_if test "$rc" -eq 0 -a "$(has_daylog "$c/R" "$row")" = 1 -a "$(plein -C "$c/R" digest)" != "$D_good"

t "control: a clock 4 minutes ahead is within the bound and accepted"
new_case; row=$(forge --ahead-ms 240000); sync_R
ok_if test "$rc" -eq 0 -a "$(has_daylog "$c/R" "$row")" = 1

t "tampered payload: refused, the payload does not match its signed hash"
new_case; row=$(forge --tamper payload)
refused "$ID_A" 2 "payload hash does not match the signed header" "$row"

t "tampered header: refused, the signature does not match"
new_case; row=$(forge --tamper header)
refused "$ID_A" 2 "signature does not match the header" "$row"

t "bad signature (one bit of it flipped): refused"
new_case; row=$(forge --tamper sig)
refused "$ID_A" 2 "signature does not match the header" "$row"

t "bad signature (signed with another site's key): refused"
new_case; row=$(forge --sign-with "$tpl/G")
refused "$ID_A" 2 "signature does not match the header" "$row"

t "site A's batch replayed under site G's ref: refused"
new_case; forge --copy 1 --as "$ID_G" >/dev/null
refused "$ID_G" 2 "signed by $ID_A was filed under site $ID_G"

t "a gap in the chain (batch 3 filed where 2 belongs): refused"
new_case; row=$(forge --seq 3 --log-seq 2 --prev random)
refused "$ID_A" 2 "gap in the chain" "$row"

t "a broken link (batch 2 names another previous batch): refused"
new_case; row=$(forge --prev random)
refused "$ID_A" 2 "gap in the chain" "$row"

t "a clock 10 minutes ahead (bound: 5): refused, naming the bound"
new_case; row=$(forge --ahead-ms 600000)
refused "$ID_A" 2 "ahead of this machine's \(at most 300 s is allowed\)" "$row"

t "a newer schema version: refused, saying to upgrade"
new_case; row=$(forge --newer-schema)
refused "$ID_A" 2 "newer plein .*upgrade plein" "$row"

t "a roster change signed by a branch: refused"
new_case; cp -a "$tpl/A" "$c/A"; thaw "$c/A"
sqlite3 "$c/A/plein.db" "UPDATE roster SET name = 'gekaapt' WHERE id = '$ID_A'"
quiet_sync "$c/A" "$c/relay.git"
refused "$ID_A" 2 "only the coordinator may change the roster"

t "... and the roster at R is untouched"
ok_if test "$(count "$c/R" "SELECT name FROM roster WHERE id = '$ID_A'")" = A

t "a change of the network's name signed by a branch: refused"
new_case; cp -a "$tpl/A" "$c/A"; thaw "$c/A"
sqlite3 "$c/A/plein.db" "UPDATE network SET name = 'Gekaapt'"
quiet_sync "$c/A" "$c/relay.git"
refused "$ID_A" 2 "only the coordinator may change the roster or the network's name"

t "... and the name at R is untouched"
ok_if test "$(count "$c/R" "SELECT name FROM network")" = "Regio Test"

t "a revoked signer's later batch: refused, naming the revocation"
new_case; cp -a "$tpl/V" "$c/V"; thaw "$c/V"
plein -C "$c/V" daylog add --location "$L" "na intrekking" >/dev/null
quiet_sync "$c/V" "$c/relay.git"
refused "$ID_V" 2 "revoked after batch 1: batch 2 refused"

t "a truly foreign network's batch: refused"
new_case; plein init "$c/F" --new-network "Regio Anders" --name F >/dev/null; ID_F=$(plein -C "$c/F" id)
plein -C "$c/F" location add --name Elders --kind branch >/dev/null
quiet_sync "$c/F" "$c/relay.git"
refused "$ID_F" 1 "belongs to another network"

t "... and nothing of it is stored at R, not even as held"
ok_if test -z "$(git --git-dir "$c/R/log.git" for-each-ref "refs/plein/sites/$ID_F" "refs/plein/held/$ID_F")"

t "the refusals are logged in the replica"
ok_if test "$(count "$c/R" "SELECT count(*) FROM plein_rejected WHERE site = '$ID_F' AND reason LIKE '%another network%'")" -ge 1

t "a sync with only refused batches left still exits 2 the next time"
sync_R
ok_if test "$rc" -eq 2 -a "$(plein -C "$c/R" digest)" = "$D_good"

t "R still verifies after the refusals (verify seals nothing, so it runs on a restored copy too)"
plein -C "$c/R" verify >/dev/null
ok_if test $? -eq 0

# A copy of R is a restored site: it seals nothing until a peer has told
# it its own history. A refusal of someone else's batch in the same sync
# must not keep it waiting.
t "a restored site resumes sealing after a sync that refused another site's batch"
new_case; forge --tamper payload >/dev/null; sync_R; first=$rc
ID_R=$(plein -C "$c/R" id)
plein -C "$c/R" daylog add --location "$L" "na herstel" >/dev/null 2>"$c/err2"
ok_if test "$first" -eq 2 -a "$(tip "$c/R/log.git" "$ID_R")" = 1 -a ! -s "$c/err2"

t "plein verify on a restored site with unsealed writes: ok, the writes taken as they are"
new_case; plein -C "$c/R" daylog add --location "$L" "nog niet verzegeld" >/dev/null 2>&1
out=$(plein -C "$c/R" verify 2>&1); rc=$?
ok_if test "$rc" -eq 0 -a -z "$(tip "$c/R/log.git" "$ID_R")" \
	-a -n "$(printf '%s\n' "$out" | grep -E '^[1-9][0-9]* changes of this site not sealed yet')"

t "unknown signer: held, not applied, exit 0, the reason named"
new_case; cp -a "$tpl/U" "$tpl/co" "$c/"; thaw "$c/U"; thaw "$c/co"
row_U=$(plein -C "$c/U" daylog add --location "$L" "nog niet toegelaten")
quiet_sync "$c/U" "$c/relay.git"
sync_R
ok_if test "$rc" -eq 0 -a "$(plein -C "$c/R" digest)" = "$D_good" -a "$(has_daylog "$c/R" "$row_U")" = 0 \
	-a -n "$(git --git-dir "$c/R/log.git" for-each-ref "refs/plein/held/$ID_U/1")" \
	-a -n "$(printf '%s\n' "$err" | grep -E "^plein: .*batch 1 of $ID_U: .*not on the roster.*held")"

t "... and applied once the coordinator's admission reaches R"
plein -C "$c/co" admit "$ID_U" --name U --role branch --key "$(id_key "$c/U")" >/dev/null
quiet_sync "$c/co" "$c/relay.git"
sync_R
ok_if test "$rc" -eq 0 -a "$(has_daylog "$c/R" "$row_U")" = 1 \
	-a -z "$(git --git-dir "$c/R/log.git" for-each-ref "refs/plein/held/$ID_U")"

t "a fork (a restored copy of A signs another batch 2): the proof is kept, the fork refused"
new_case; cp -a "$tpl/A" "$c/A1"; cp -a "$tpl/A" "$c/A2"; cp -a "$tpl/relay.git" "$c/other.git"
quiet_sync "$c/A1" "$c/relay.git"; quiet_sync "$c/A2" "$c/other.git" # each confirmed by its own relay
row_1=$(plein -C "$c/A1" daylog add --location "$L" "het origineel")
row_2=$(plein -C "$c/A2" daylog add --location "$L" "de kopie")
quiet_sync "$c/A1" "$c/relay.git"; quiet_sync "$c/A2" "$c/other.git"
sync_R; first=$rc
err=$(timeout "$SYNC_TIMEOUT" "$PLEIN" -C "$c/R" sync "$c/other.git" 2>&1 >/dev/null); rc=$?
ok_if test "$first" -eq 0 -a "$rc" -eq 2 -a "$(has_daylog "$c/R" "$row_1")" = 1 -a "$(has_daylog "$c/R" "$row_2")" = 0 \
	-a -n "$(git --git-dir "$c/R/log.git" for-each-ref "refs/plein/forks/$ID_A/2-1")" \
	-a -n "$(printf '%s\n' "$err" | grep -E "^plein: $c/other.git: batch 2 of $ID_A: .*signed two different batches number 2")"

t "... and R still verifies, its chain of A unchanged"
plein -C "$c/R" verify >/dev/null 2>&1
ok_if test $? -eq 0 -a "$(tip "$c/R/log.git" "$ID_A")" = 2

t "a relay that refuses R's push (its ref is locked): exit 2, the chain named"
new_case; thaw "$c/R"; row_R=$(plein -C "$c/R" daylog add --location "$L" "van R")
ID_R=$(plein -C "$c/R" id)
touch "$c/relay.git/refs/plein/sites/$ID_R.lock"
sync_R
ok_if test "$rc" -eq 2 -a -n "$(printf '%s\n' "$err" | grep -E "^plein: $c/relay.git: the chain of $ID_R was not sent")" \
	-a "$(has_daylog "$c/R" "$row_G")" = 1 -a -z "$(tip "$c/relay.git" "$ID_R")"

t "... and once the lock is gone the next sync sends it"
rm "$c/relay.git/refs/plein/sites/$ID_R.lock"
sync_R
ok_if test "$rc" -eq 0 -a -n "$(tip "$c/relay.git" "$ID_R")"

# A damaged git object in the relay: a path relay's objects are read in
# this process, so a truncated zlib stream must end in an error, not a
# hang (libgit2 1.5.1 loops on one). Only the damaged chain waits: R gets
# G's good batch from the same relay (D_good), and the damaged chain is
# named.
damaged() {
	sync_R
	local d; d=$(plein -C "$c/R" digest)
	if [ "$rc" -eq 124 ]; then fail "the sync hung (killed after $SYNC_TIMEOUT s)"; return; fi
	if [ "$rc" -ne 2 ]; then fail "exit $rc, expected 2: $err"; return; fi
	if ! printf '%s\n' "$err" | grep -qE "^plein: $c/relay.git: the chain of $ID_A could not be fetched: batch 2: .*damaged: ${1:-}"; then
		fail "no line naming the chain and the damage in: $err"; return; fi
	if [ "$d" != "$D_good" ]; then fail "digest $d, expected $D_good (G's batch alone): $err"; return; fi
	if [ "$(has_daylog "$c/R" "$row")" != 0 ]; then fail "the damaged batch was applied"; return; fi
	pass
}
loose() { # the loose file of a blob of A's tip batch in the case relay
	local o; o=$(git --git-dir "$c/relay.git" rev-parse "refs/plein/sites/$ID_A:$1")
	echo "$c/relay.git/objects/${o:0:2}/${o:2}"
}

t "a loose object with damaged bytes in the relay: refused, named, nothing applied"
new_case; row=$(forge --text "beschadigd"); f=$(loose payload); chmod u+w "$f"
printf '\377\377\377\377' | dd of="$f" bs=1 seek=20 conv=notrunc 2>/dev/null
damaged

t "a truncated loose object in the relay: refused, named, nothing applied (no hang)"
new_case; row=$(forge --text "afgekapt"); f=$(loose payload); chmod u+w "$f"; cp "$f" "$c/good-object"
truncate -s $(($(stat -c %s "$f") / 2)) "$f"
damaged truncated

t "... and once the relay is repaired, the next sync takes that chain"
cp "$c/good-object" "$f"
sync_R
ok_if test "$rc" -eq 0 -a "$(has_daylog "$c/R" "$row")" = 1

# libgit2 would hang reading a truncated loose object of log.git too.
t "plein verify on a truncated loose object in log.git: exit 2, the object named (no hang)"
new_case; cp -a "$tpl/co" "$c/co"
o=$(git --git-dir "$c/co/log.git" rev-parse "refs/plein/sites/$(plein -C "$c/co" id):payload")
f=$c/co/log.git/objects/${o:0:2}/${o:2}; chmod u+w "$f"; truncate -s $(($(stat -c %s "$f") / 2)) "$f"
err=$(timeout "$SYNC_TIMEOUT" "$PLEIN" -C "$c/co" verify 2>&1 >/dev/null); rc=$?
ok_if test "$rc" -eq 2 -a -n "$(printf '%s\n' "$err" | grep -E "^plein: .*git object $o in .*damaged: truncated")"

done_testing
