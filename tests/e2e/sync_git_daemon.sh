#!/usr/bin/env bash
# Sync through a real git server: `git daemon` on 127.0.0.1 serving one
# bare relay repository over git:// (fetch and push). A coordinator and
# two branches meet only through it; held batches, admission, the empty
# sync, and a damaged object on the server side.
. "$(dirname "$0")/lib.sh"
FORGE=${FORGE_BATCH:?set FORGE_BATCH to the forge_batch tool}

daemon_pid=""
stop_daemon() { if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null; wait "$daemon_pid" 2>/dev/null; daemon_pid=""; fi; }
trap 'stop_daemon; rm -rf "$TMP"' EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
digest() { plein -C "$1" digest; }
has_daylog() { sqlite3 "$1/plein.db" "SELECT count(*) FROM daylog WHERE id = '$2'"; }

mkdir relay
git init -q --bare relay/plein.git
port=$(free_port)
git daemon --export-all --enable=receive-pack --base-path="$TMP/relay" --listen=127.0.0.1 --port="$port" \
	--reuseaddr --informative-errors "$TMP/relay" 2>daemon.log &
daemon_pid=$!
URL=git://127.0.0.1:$port/plein.git
up=0
for _ in $(seq 100); do
	if git ls-remote "$URL" >/dev/null 2>&1; then up=1; break; fi
	sleep 0.1
done

t "git daemon listens on 127.0.0.1:$port"
ok_if test "$up" = 1

plein init co --new-network "Regio Git" --name co >/dev/null
plein -C co card > card
plein init a --card card --name "Tak A" >/dev/null
plein init b --card card --name "Tak B" >/dev/null
ID_A=$(plein -C a id); ID_B=$(plein -C b id)
L=$(plein -C co location add --name Centrum --kind branch)
P=$(plein -C co partner add --name "Juridisch Loket")

t "the coordinator pushes its chain to the git server"
out=$(plein -C co sync "$URL" 2>&1)
ok_if test -n "$(git --git-dir relay/plein.git for-each-ref "refs/plein/sites/$(plein -C co id)")"

t "branch A fetches it over git://"
plein -C a sync "$URL" >/dev/null 2>&1
ok_if test "$(sqlite3 a/plein.db "SELECT name FROM location WHERE id = '$L'")" = Centrum

t "A's batches reach the coordinator before A's admission: held, not applied"
row_a=$(plein -C a daylog add --location "$L" "ochtend druk")
plein -C a visit add --location "$L" --theme werk --theme geld >/dev/null
plein -C a sync "$URL" >/dev/null 2>&1
err=$(plein -C co sync "$URL" 2>&1 >/dev/null); rc=$?
ok_if test "$rc" -eq 0 -a "$(has_daylog co "$row_a")" = 0 \
	-a -n "$(git --git-dir co/log.git for-each-ref "refs/plein/held/$ID_A")" \
	-a -n "$(printf '%s\n' "$err" | grep "batch 1 of $ID_A: .*held")"

t "admission travels through the git server and releases them"
plein -C co admit "$ID_A" --name "Tak A" --role branch >/dev/null
plein -C co admit "$ID_B" --name "Tak B" --role branch --key "$(plein -C b id --key)" >/dev/null
plein -C co sync "$URL" >/dev/null 2>&1
ok_if test "$(has_daylog co "$row_a")" = 1 -a -z "$(git --git-dir co/log.git for-each-ref "refs/plein/held/$ID_A")"

t "B joins through the server, writes, and everyone converges"
plein -C b sync "$URL" >/dev/null 2>&1
r=$(plein -C b referral add --to "$P" --theme werk --contact-name "Jan" --note "bellen")
plein -C b referral attempt "$r" >/dev/null
plein -C b sync "$URL" >/dev/null 2>&1
plein -C a sync "$URL" >/dev/null 2>&1
plein -C a referral attempt "$r" >/dev/null
plein -C a referral set "$r" --status contacted >/dev/null
plein -C a sync "$URL" >/dev/null 2>&1
plein -C b sync "$URL" >/dev/null 2>&1
plein -C co sync "$URL" >/dev/null 2>&1
ok_if test "$(digest co)" = "$(digest a)" -a "$(digest a)" = "$(digest b)"

t "the contact attempts of two sites add up, everywhere"
ok_if test "$(sqlite3 co/plein.db "SELECT attempts || ' ' || status FROM referral WHERE id = '$r'")" = "2 contacted"

t "each replica equals its own rebuild from the log"
bad=0
for s in co a b; do plein -C "$s" verify >/dev/null 2>&1 || bad=1; done
ok_if test "$bad" = 0

t "a sync with nothing new sends and receives nothing"
out=$(plein -C b sync "$URL" 2>&1)
ok_if test "$out" = "$URL: 0 batches received, 0 sent"

t "the server's repository holds three chains and passes git fsck"
ok_if test "$(git --git-dir relay/plein.git for-each-ref refs/plein/sites | wc -l)" = 3 \
	-a -z "$(git --git-dir relay/plein.git fsck --strict 2>&1 | grep -v '^notice: HEAD points to an unborn branch')"

# One damaged chain must not keep the good ones out: the fetch of all
# chains fails on the server, and is then done chain by chain.
t "a damaged object on the server: that chain is named, b's good batch still arrives, no hang"
row_b=$(plein -C b daylog add --location "$L" "goed, naast het beschadigde")
plein -C b sync "$URL" >/dev/null 2>&1
row=$("$FORGE" -C a --relay relay/plein.git --text "beschadigd")
o=$(git --git-dir relay/plein.git rev-parse "refs/plein/sites/$ID_A:payload")
f=relay/plein.git/objects/${o:0:2}/${o:2}
chmod u+w "$f"; truncate -s $(($(stat -c %s "$f") / 2)) "$f"
err=$(timeout 120 "$PLEIN" -C co sync "$URL" 2>&1 >/dev/null); rc=$?
printf "%s\n" "$err" | sed "s/^/# /"
ok_if test "$rc" -eq 2 -a "$(has_daylog co "$row_b")" = 1 -a "$(has_daylog co "$row")" = 0 \
	-a -n "$(printf '%s\n' "$err" | grep "^plein: $URL: the chain of $ID_A could not be fetched: ")"

# A server that takes the connection and then says nothing: libgit2 has
# no time-out, so plein watches the transfer (sync.timeout seconds
# without progress).
t "a server that never answers: the sync gives up after sync.timeout, exit 2, no hang"
python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); print(s.getsockname()[1], flush=True)
c, _ = s.accept(); time.sleep(300)' >mute.port &
mute=$!
for _ in $(seq 100); do [ -s mute.port ] && break; sleep 0.1; done
printf '[sync]\n\ttimeout = 3\n' >> co/plein.conf
err=$(timeout 120 "$PLEIN" -C co sync "git://127.0.0.1:$(cat mute.port)/plein.git" 2>&1 >/dev/null); rc=$?
kill "$mute" 2>/dev/null; wait "$mute" 2>/dev/null
ok_if test "$rc" -eq 2 -a -n "$(printf '%s\n' "$err" | grep -E '^plein: git://127.0.0.1:[0-9]+/plein.git: no answer for 3 s; gave up')"

t "git daemon stops"
stop_daemon
ok_if sh -c "! git ls-remote '$URL' >/dev/null 2>&1"

done_testing
