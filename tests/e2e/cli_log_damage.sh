#!/usr/bin/env bash
# A damaged loose object in a site's own log.git (a truncated file after a
# crash or a bad disk): libgit2 would loop for ever reading it, so every
# command checks the loose objects that are new since the last check
# before it reads log.git (loose.h). Seal, sync and the daemon's catch-up
# end with a clear error instead of hanging; the writes made meanwhile are
# kept and sealed once the object is whole again; plein verify names it.
. "$(dirname "$0")/lib.sh"
T=${DAMAGE_TIMEOUT:-60} # a healthy command here takes a second

plein init co --new-network "Regio Twente" --name co >/dev/null
L=$(plein -C co location add --name Centrum --kind branch)
plein -C co daylog add --location "$L" "voor de schade" >/dev/null
plein -C co sync "$TMP/relay.git" >/dev/null
id=$(plein -C co id)
tip=$(git --git-dir co/log.git rev-parse "refs/plein/sites/$id")
blob=$(git --git-dir co/log.git rev-parse "$tip:payload")
obj=co/log.git/objects/${blob:0:2}/${blob:2}

t "setup: the tip batch's payload is a loose object in log.git"
ok_if test -f "$obj"

cp "$obj" payload.orig
chmod u+w "$obj"; truncate -s $(($(stat -c %s "$obj") / 2)) "$obj"

t "a write is saved; sealing it stops with a clear warning instead of hanging"
row=$(timeout -k 5 "$T" "$PLEIN" -C co daylog add --location "$L" "na de schade" 2>err.txt); rc=$?
ok_if test "$rc" = 0 -a -n "$row" -a "$(sqlite3 co/plein.db "SELECT count(*) FROM daylog WHERE id = '$row'")" = 1 \
	-a "$(grep -c "not yet sealed.*log.git is damaged.*git object $blob.*truncated.*plein verify" err.txt)" = 1

t "plein sync: exit 2 naming the object, nothing sent, no hang"
before=$(git --git-dir relay.git rev-parse "refs/plein/sites/$id")
expect_fail 2 "log.git is damaged.*git object $blob .*truncated.*Restore log.git from a backup" \
	timeout -k 5 "$T" "$PLEIN" -C co sync "$TMP/relay.git"
t "... and the relay is as it was"
ok_if test "$(git --git-dir relay.git rev-parse "refs/plein/sites/$id")" = "$before"

t "plein serve: its first catch-up refuses to start, exit 2, naming the object"
expect_fail 2 "log.git is damaged.*git object $blob" timeout -k 5 "$T" "$PLEIN" -C co serve --listen 127.0.0.1:0

t "a rebuild of a lost plein.db stops with the same error, and keeps the file to rebuild later"
cp co/plein.db plein.db.keep
mv co/plein.db co/plein.db.lost
expect_fail 2 "log.git is damaged.*git object $blob" timeout -k 5 "$T" "$PLEIN" -C co status
mv co/plein.db.lost co/plein.db

t "plein verify explains: the object, the damage, what to do"
expect_fail 2 "1 problem\(s\) found; first: log.git: git object $blob .*truncated.*restore log.git from a backup" \
	timeout -k 5 "$T" "$PLEIN" -C co verify

t "the object whole again: the saved write is sealed and sent, and verify passes (nothing lost)"
cp payload.orig "$obj"
timeout -k 5 "$T" "$PLEIN" -C co sync "$TMP/relay.git" >/dev/null 2>err.txt; rc=$?
git --git-dir relay.git log --format=%s "refs/plein/sites/$id" > sent.txt
ok_if test "$rc" = 0 -a "$(sqlite3 co/plein.db "SELECT count(*) FROM plein_capture")" = 0 \
	-a "$(git --git-dir relay.git rev-parse "refs/plein/sites/$id")" != "$before" \
	-a "$(timeout -k 5 "$T" "$PLEIN" -C co verify >/dev/null 2>&1; echo $?)" = 0

done_testing
