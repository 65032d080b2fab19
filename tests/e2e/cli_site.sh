#!/usr/bin/env bash
# Sites from the command line: init, id, status, digest, capture from a
# plain sqlite3 shell, and the bad-input cases of a site directory.
. "$(dirname "$0")/lib.sh"

t "init creates the four files of a site, key mode 0600"
id=$(plein init "$TMP/hengelo" --new-network "Regio Twente" --name "Bibliotheek Hengelo")
ok_if test -f hengelo/plein.db -a -f hengelo/site.key -a -f hengelo/plein.conf -a -d hengelo/log.git \
	-a "$(stat -c %a hengelo/site.key)" = 600

t "init prints the site id, and 'plein id' agrees"
ok_if test "$id" = "$(plein -C hengelo id)" -a ${#id} -eq 19

t "log.git is a bare repository the git CLI reads"
ok_if test "$(git --git-dir hengelo/log.git rev-parse --is-bare-repository)" = true

t "PLEIN_DIR selects the site like -C"
ok_if test "$(PLEIN_DIR=hengelo plein id)" = "$id"

t "status names the network and the coordinator role"
st=$(plein -C hengelo status --json)
ok_if sh -c "echo '$st' | grep -q '\"network\":\"Regio Twente\"' && echo '$st' | grep -q '\"role\":\"coordinator\"'"

t "a row written from the sqlite3 shell is captured"
before=$(plein -C hengelo status --json | sed 's/.*"unsealed_changes":\([0-9]*\).*/\1/')
sqlite3 hengelo/plein.db "INSERT INTO location(id, name, kind) VALUES ('shell-1', 'Via de shell', 'mobile'); UPDATE location SET address = 'Kerkstraat 2' WHERE id = 'shell-1'; DELETE FROM location WHERE id = 'shell-1';"
after=$(plein -C hengelo status --json | sed 's/.*"unsealed_changes":\([0-9]*\).*/\1/')
ok_if test "$after" -eq $((before + 3))

t "digest is 64 hex characters and changes with the data"
d1=$(plein -C hengelo digest)
plein -C hengelo location add --name "Centrum" --kind branch >/dev/null
d2=$(plein -C hengelo digest)
ok_if sh -c "echo '$d1' | grep -qE '^[0-9a-f]{64}$' && test '$d1' != '$d2'"

t "init into a non-empty directory is refused and leaves it alone"
mkdir other; echo keep > other/file
expect_fail 1 "not an empty directory" plein init other --new-network X

t "the kept file is still there"
ok_if test "$(cat other/file)" = keep

t "a missing site directory says how to make one"
expect_fail 1 "no plein site at .*plein init" plein -C nowhere status

t "a foreign directory is not taken for a site"
expect_fail 1 "is not a plein site" plein -C other status

t "a site key readable by others is refused"
chmod 644 hengelo/site.key
expect_fail 1 "chmod 600" plein -C hengelo id
chmod 600 hengelo/site.key

t "a corrupt database gets a clear message"
new_site broken
printf 'this is not a database at all, just text %.0s' $(seq 1 200) > broken/plein.db
rm -f broken/plein.db-wal broken/plein.db-shm
expect_fail 2 "not a plein database or is damaged" plein -C broken status

t "a locked database says busy and to try again"
# Another writer holds the write lock for longer than plein waits (5 s);
# plein starts only once the lock is surely held.
python3 - "$TMP/hengelo/plein.db" "$TMP/locked" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(12)
PY
for i in $(seq 1 100); do [ -f "$TMP/locked" ] && break; sleep 0.1; done
err=$(timeout 30 "$PLEIN" -C hengelo location add --name Busy --kind branch 2>&1); rc=$?
wait
if [ $rc -eq 2 ] && echo "$err" | grep -q "busy.*try again"; then pass; else fail "rc=$rc $err"; fi

t "the busy write changed nothing"
ok_if test "$(sqlite3 hengelo/plein.db "SELECT count(*) FROM location WHERE name = 'Busy'")" = 0

t "a database written by a newer plein is refused and not touched"
version=$(sqlite3 hengelo/plein.db "PRAGMA user_version")
sqlite3 hengelo/plein.db "PRAGMA user_version=99"
expect_fail 1 "newer plein" plein -C hengelo status
sqlite3 hengelo/plein.db "PRAGMA user_version=$version"

t "unknown command and unknown option are usage errors"
expect_fail 1 "unknown command" plein -C hengelo frobnicate

t "unknown option names the command"
expect_fail 1 "unknown option --colour for 'plein location list'" plein -C hengelo location list --colour

t "--help prints the usage of a command"
ok_if sh -c "'$PLEIN' location add --help | grep -q 'usage: plein location add --name N --kind'"

t "forget names an unknown referral and changes nothing"
before=$(plein -C hengelo digest)
expect_fail 1 "no referral with id" plein -C hengelo forget --referral 01JD0000000000000000000000
t "the digest is unchanged"
ok_if test "$(plein -C hengelo digest)" = "$before"

t "plein.db put back from a backup (rm, then cp -a) is known as restored, even in its old inode"
plein -C hengelo peer add stick "$TMP/stick.git" >/dev/null
plein -C hengelo location add --name "Voor de back-up" --kind branch >/dev/null
cp -a hengelo hengelo.backup
plein -C hengelo location add --name "Na de back-up" --kind branch >/dev/null
ino=$(stat -c %i hengelo/plein.db)
rm hengelo/plein.db* && cp -a hengelo.backup/plein.db* hengelo/   # ext4 hands back the freed inode
[ "$(stat -c %i hengelo/plein.db)" = "$ino" ] && echo "# the restored plein.db has its old inode $ino"
plein -C hengelo location add --name "Na het terugzetten" --kind branch 2>restore.err >/dev/null
ok_if grep -q "restored or copied" restore.err

done_testing
