#!/usr/bin/env bash
# Make docs/board.png and docs/folder.png from the demo-like network of
# tests/e2e/pages_fixture.sh: the board on Tuesday 24 November 2026 at
# 13:45 on a 1920x1080 screen, the folder of week 48 on an A4-shaped page.
#   PLEIN=build/plein tests/tools/pages_screenshots.sh [OUTDIR]
set -eu
PLEIN=$(realpath "${PLEIN:?set PLEIN to the plein binary}")
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(realpath "${1:-$HERE/../../docs}")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
"$PLEIN" init "$TMP/s" --new-network "Regio Twente" --name hengelo >/dev/null
P() { "$PLEIN" -C "$TMP/s" "$@"; }
. "$HERE/../e2e/pages_fixture.sh"
P board --location "$centrum" --at "2026-11-24 13:45" >board.html
P folder --location "$centrum" --week 2026-W48 >folder.html
shot() { # shot PAGE WIDTH,HEIGHT
	chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
		--disable-sync --no-first-run --user-data-dir="$(mktemp -d "$TMP/chrome.XXXXXX")" --hide-scrollbars \
		--window-size="$2" --screenshot="$OUT/$1.png" "file://$TMP/$1.html" >/dev/null 2>&1
}
shot board 1920,1080
shot folder 1000,1760
echo "$OUT/board.png $OUT/folder.png"
