#!/usr/bin/env bash
# A full disk: a write fails with a clear message, nothing half-written,
# and the site works again once there is room. Uses a real, small tmpfs
# (needs root, as in CI; elsewhere the cases are skipped and say why).
. "$(dirname "$0")/lib.sh"

mnt="$TMP/small"
mkdir -p "$mnt"
if [ "$(id -u)" -ne 0 ] || ! mount -t tmpfs -o size=8m tmpfs "$mnt" 2>/dev/null; then
	echo "ok 1 - disk full # SKIP needs root to mount a small tmpfs"
	echo "1..1"
	exit 0
fi
trap 'umount "$mnt" 2>/dev/null; rm -rf "$TMP"' EXIT

t "a site fits on the small disk"
plein init "$mnt/site" --new-network "Regio Vol" --name vol >/dev/null
ok_if test -f "$mnt/site/plein.db"

L=$(plein -C "$mnt/site" location add --name "Centrum" --kind branch)

# Fill the disk to the last byte.
dd if=/dev/zero of="$mnt/filler" bs=64k >/dev/null 2>&1
dd if=/dev/zero of="$mnt/filler2" bs=1k >/dev/null 2>&1
dd if=/dev/zero of="$mnt/filler3" bs=512 >/dev/null 2>&1

# The WAL may still have room of its own: write until the disk says no.
long=$(head -c 3900 /dev/zero | tr '\0' 'x')
rc=0; tries=0
while [ $tries -lt 300 ]; do
	before=$(plein -C "$mnt/site" digest)
	err=$(plein -C "$mnt/site" daylog add --location "$L" --day 2026-11-24 "$long" 2>&1 >/dev/null); rc=$?
	[ $rc -ne 0 ] && break
	tries=$((tries + 1))
done

t "a write on a full disk fails with exit 2 and says the disk is full"
if [ $rc -eq 2 ] && echo "$err" | grep -q "^plein: .*disk is full"; then pass; else fail "rc=$rc after $tries writes: $err"; fi

t "nothing of the failed write is in the replica"
ok_if test "$(plein -C "$mnt/site" digest)" = "$before"

rm -f "$mnt/filler" "$mnt/filler2" "$mnt/filler3"

t "with room again, the same write succeeds"
plein -C "$mnt/site" daylog add --location "$L" --day 2026-11-24 "$long" >/dev/null
ok_if test $? -eq 0

t "and the earlier record is intact"
ok_if test "$(plein -C "$mnt/site" location list --json | grep -c Centrum)" = 1

done_testing
