#!/usr/bin/env bash
# Two real sites syncing over TCP on 127.0.0.1: `plein sync tcp://` as the
# initiator against tcp_responder (plein_tcp_accept without the daemon),
# both ways. A site not on the roster, one of another network and a revoked
# one are refused before any data flows, and nothing of theirs is applied.
. "$(dirname "$0")/lib.sh"
RESP=${TCP_RESPONDER:?set TCP_RESPONDER to the tcp_responder tool}

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$TMP"; }
trap cleanup EXIT

# respond SITE: start a responder for SITE; its port goes to $port.
respond() {
	rm -f "$TMP/$1.port"
	"$RESP" "$TMP/$1" "$TMP/$1.port" >"$TMP/$1.sessions" 2>"$TMP/$1.resp.err" &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$TMP/$1.port" ] && break; sleep 0.05; done
	port=$(cat "$TMP/$1.port")
}

plein init coord --new-network "Regio Twente" --name "Coördinatie" >/dev/null
plein -C coord card > card.txt
id_b=$(plein init borne --card card.txt --name "Bibliotheek Borne" --role branch)
key_b=$(plein -C borne id --key)
L=$(plein -C coord location add --name "Borne" --kind branch)
respond coord; pc=$port

t "a site not on the roster is refused before any data flows"
expect_fail 2 "refused this site: site $id_b is not on the roster" plein -C borne sync "tcp://127.0.0.1:$pc"

t "nothing moved either way after the refusal"
if [ "$(plein -C borne location list --json)" = "[]" ] && ! plein -C coord sites --json | grep -q "$id_b" && \
   grep -q "rc=-5 peer=$id_b in=0 out=0" coord.sessions; then pass; else fail "$(cat coord.sessions)"; fi

t "once admitted, the first sync brings the coordinator's changes"
plein -C coord admit "$id_b" --key "$key_b" --name "Bibliotheek Borne" --role branch >/dev/null
out=$(plein -C borne sync "tcp://127.0.0.1:$pc" 2>&1)
if echo "$out" | grep -qE "^tcp://127.0.0.1:$pc: [1-9][0-9]* batches received, 0 sent$" && \
   [ "$(plein -C borne location list --json | grep -c "$L")" = 1 ]; then pass; else fail "$out"; fi

t "changes made at both sites meet, and the digests are equal"
plein -C coord daylog add --location "$L" --day 2026-11-24 "Overleg met Borne over de inloop" >/dev/null
plein -C borne daylog add --location "$L" --day 2026-11-24 "Rustige ochtend" >/dev/null
out=$(plein -C borne sync "tcp://127.0.0.1:$pc" 2>&1)
if echo "$out" | grep -q "1 batches received, 1 sent" && \
   [ "$(plein -C coord digest)" = "$(plein -C borne digest)" ]; then pass; else fail "$out"; fi

t "the other way round: the coordinator syncs to a responder at the branch"
respond borne; pb=$port
plein -C borne daylog add --location "$L" --day 2026-11-25 "Taalcafé vol" >/dev/null
plein -C coord daylog add --location "$L" --day 2026-11-25 "Nieuwe partner" >/dev/null
out=$(plein -C coord sync "tcp://127.0.0.1:$pb" 2>&1)
if echo "$out" | grep -q "1 batches received, 1 sent" && \
   [ "$(plein -C coord digest)" = "$(plein -C borne digest)" ] && \
   [ "$(plein -C coord daylog list --json | grep -c Taalcafé)" = 1 ]; then pass; else fail "$out"; fi

t "a sync with nothing new moves no batch"
ok_if sh -c "'$PLEIN' -C borne sync 'tcp://127.0.0.1:$pc' | grep -q ': 0 batches received, 0 sent'"

t "a tcp:// peer records its last success and the bytes moved"
plein -C borne peer add coord "tcp://127.0.0.1:$pc"
plein -C borne sync coord >/dev/null
ok_if python3 -c "
import json, sys
d = json.loads(sys.argv[1])
p = [p for p in d['peers'] if p['peer'] == 'coord'][0]
assert p['last_ok'] and p['bytes_in'] > 0 and p['bytes_out'] > 0, p
" "$(plein -C borne status --json)"

t "a site of another network fails the handshake, and learns nothing"
plein init other --new-network "Elders" --name "Elders" >/dev/null
expect_fail 2 "handshake failed" plein -C other sync "tcp://127.0.0.1:$pc"

t "a site that joined but was never admitted is refused too"
id_x=$(plein init outsider --card card.txt --name "Buiten" --role partner)
expect_fail 2 "not on the roster" plein -C outsider sync "tcp://127.0.0.1:$pc"

t "a failed tcp:// sync is recorded as the peer's last error"
plein -C outsider peer add coord "tcp://127.0.0.1:$pc"
plein -C outsider sync coord >/dev/null 2>&1
ok_if sh -c "'$PLEIN' -C outsider peer list --json | grep -q 'not on the roster'"

# A restored backup must not sign a second history (design §5): over TCP
# as over git (sync_stick.sh), a sync tells a restored site its own chain.
id_d=$(plein init delden --card card.txt --name "Bibliotheek Delden" --role branch)
plein -C coord admit "$id_d" --key "$(plein -C delden id --key)" --name "Delden" --role branch >/dev/null
plein -C delden sync "tcp://127.0.0.1:$pc" >/dev/null
cp -a delden delden.backup
plein -C delden daylog add --location "$L" --day 2026-11-26 "Na de back-up geschreven" >/dev/null
plein -C delden sync "tcp://127.0.0.1:$pc" >/dev/null
# The disk died; the backup comes back (to a new file: the old one is
# held until then, so the copy cannot reuse its inode and look unmoved).
mv delden delden.dead && cp -a delden.backup delden && rm -rf delden.dead
unsealed() { python3 -c "import json, sys; print(json.loads(sys.argv[1])['unsealed_changes'])" "$(plein -C delden status --json)"; }

t "after a restore, a write is saved but not sealed, and says why"
plein -C delden daylog add --location "$L" --day 2026-11-26 "Na het terugzetten" 2>restore.err >/dev/null
ok_if sh -c "grep -q 'restored or copied' restore.err && test $(unsealed) -gt 0"

t "a tcp:// sync brings back what the site published before, and sealing resumes"
out=$(plein -C delden sync "tcp://127.0.0.1:$pc" 2>&1)
if echo "$out" | grep -qE "[1-9][0-9]* batches received" && echo "$out" | grep -q "history is confirmed" && [ "$(unsealed)" = 0 ]; then
	pass; else fail "$out; $(unsealed) unsealed"; fi

t "the next sync sends the new batch on top: both writes once at both sites, no fork"
plein -C delden sync "tcp://127.0.0.1:$pc" >/dev/null
ok=1
for site in coord delden; do
	c=$(plein -C $site daylog list --json | grep -o 'Na de back-up geschreven\|Na het terugzetten' | wc -l)
	[ "$c" = 2 ] || { ok=0; echo "# $site has $c of the 2 writes"; }
done
ok_if test $ok = 1 -a -z "$(git --git-dir coord/log.git for-each-ref refs/plein/forks)" \
	-a "$(plein -C coord digest)" = "$(plein -C delden digest)"

# A copied site dir that goes on writing forks its chain (docs/sync.md
# "Forks"). Over TCP as over git the second batch of a number is refused
# and kept as proof, and the sync exits 2 saying so: whether both chains
# have the same length or the copy's is longer.
seqof() { git --git-dir "$1/log.git" log -1 --format='%(trailers:key=Plein-Seq,valueonly)' "refs/plein/sites/$2" | head -1; }
rows() { plein -C "$1" daylog list --json | grep -o "$2" | wc -l; }
id_h=$(plein init hengelo --card card.txt --name "Bibliotheek Hengelo" --role branch)
plein -C coord admit "$id_h" --key "$(plein -C hengelo id --key)" --name "Hengelo" --role branch >/dev/null
plein -C hengelo sync "tcp://127.0.0.1:$pc" >/dev/null
plein -C delden sync "tcp://127.0.0.1:$pc" >/dev/null
cp -a hengelo hengelo.copy
plein -C hengelo.copy sync "tcp://127.0.0.1:$pc" >/dev/null # confirmed: the copy may seal
N=$(( $(seqof hengelo "$id_h") + 1 ))
plein -C hengelo daylog add --location "$L" --day 2026-11-27 "Origineel van Hengelo" >/dev/null
plein -C hengelo.copy daylog add --location "$L" --day 2026-11-27 "Kopie van Hengelo" >/dev/null
plein -C coord daylog add --location "$L" --day 2026-11-27 "Niet betrokken" >/dev/null
plein -C hengelo sync "tcp://127.0.0.1:$pc" >/dev/null

t "two copies of one site, one batch each: the second to sync is refused as a fork (exit 2, the message)"
err=$(plein -C hengelo.copy sync "tcp://127.0.0.1:$pc" 2>&1 >/dev/null); rc=$?
if [ "$rc" = 2 ] && [ "$(seqof hengelo.copy "$id_h")" = "$N" ] && [ "$(seqof coord "$id_h")" = "$N" ] && \
   echo "$err" | grep -qE "^plein: tcp://127.0.0.1:$pc: batch $N of $id_h: .*signed two different batches number $N .*tell the operator of that site"; then
	pass; else fail "rc=$rc N=$N $err"; fi

t "... each side keeps the other's batch as proof under refs/plein/forks/, applied nowhere"
if [ -n "$(git --git-dir hengelo.copy/log.git for-each-ref "refs/plein/forks/$id_h/$N-1")" ] && \
   [ -n "$(git --git-dir coord/log.git for-each-ref "refs/plein/forks/$id_h/$N-1")" ] && \
   grep -q "forks=1 .*" coord.sessions && grep -q "note batch $N of $id_h: .*signed two different batches" coord.sessions && \
   [ "$(rows coord 'Origineel van Hengelo')" = 1 ] && [ "$(rows coord 'Kopie van Hengelo')" = 0 ] && \
   [ "$(rows hengelo.copy 'Origineel van Hengelo')" = 0 ] && [ "$(rows hengelo.copy 'Kopie van Hengelo')" = 1 ]; then
	pass; else fail "$(tail -5 coord.sessions)"; fi

t "... the data not involved still converges, nothing applied twice"
plein -C hengelo sync "tcp://127.0.0.1:$pc" >/dev/null
if [ "$(rows hengelo.copy 'Niet betrokken')" = 1 ] && [ "$(rows hengelo 'Niet betrokken')" = 1 ] && \
   [ "$(plein -C hengelo digest)" = "$(plein -C coord digest)" ] && [ "$(rows hengelo 'Origineel van Hengelo')" = 1 ]; then
	pass; else fail "copy $(rows hengelo.copy 'Niet betrokken'), hengelo $(rows hengelo 'Niet betrokken')"; fi

t "a longer forked chain is a fork too, not a gap: the peer keeps the proof, the copy exits 2"
respond delden; pd=$port
plein -C hengelo sync "tcp://127.0.0.1:$pd" >/dev/null
plein -C hengelo.copy daylog add --location "$L" --day 2026-11-28 "Kopie schrijft door" >/dev/null
err=$(plein -C hengelo.copy sync "tcp://127.0.0.1:$pd" 2>&1 >/dev/null); rc=$?
if [ "$rc" = 2 ] && [ "$(seqof hengelo.copy "$id_h")" = $((N + 1)) ] && [ "$(seqof delden "$id_h")" = "$N" ] && \
   echo "$err" | grep -qE "batch $N of $id_h: .*signed two different batches number $N .*keeps ours as proof" && \
   [ -n "$(git --git-dir delden/log.git for-each-ref "refs/plein/forks/$id_h/$N-1")" ] && \
   grep -q "note batch $N of $id_h: .*signed two different batches" delden.sessions && ! grep -q "gap" delden.sessions && \
   [ "$(rows delden 'Kopie')" = 0 ]; then
	pass; else fail "rc=$rc $err; $(cat delden.sessions)"; fi

t "chains that agree still move nothing: a sync with nothing new sends no batch"
ok_if sh -c "'$PLEIN' -C hengelo sync 'tcp://127.0.0.1:$pd' | grep -q ': 0 batches received, 0 sent'"

t "a revoked site is refused"
plein -C coord revoke "$id_b" >/dev/null
expect_fail 2 "was revoked" plein -C borne sync "tcp://127.0.0.1:$pc"

t "nobody listening: one clear line, exit 2"
expect_fail 2 "cannot reach 127.0.0.1:1" plein -C borne sync "tcp://127.0.0.1:1"

t "an address that is not HOST:PORT: exit 1, nothing tried"
expect_fail 1 "is not HOST:PORT" plein -C borne sync "tcp://127.0.0.1"

t "verify rebuilds the same state from the log at both sites"
ok_if sh -c "'$PLEIN' -C coord verify >/dev/null && '$PLEIN' -C borne verify >/dev/null"

done_testing
