# Shell helpers for end-to-end tests of the plein binary, printing TAP.
#   . "$(dirname "$0")/lib.sh"
#   t "name" ; ...commands...; ok_if [ ... ]
# Every test runs in a fresh temporary directory that is removed at exit.
set -u
PLEIN=${PLEIN:?set PLEIN to the plein binary}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/plein-e2e.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 2
n=0
failed=0
name=""

plein() { "$PLEIN" "$@"; }

# Start a named case.
t() { name=$1; }

pass() { n=$((n + 1)); echo "ok $n - $name"; }
fail() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $name"; [ $# -gt 0 ] && echo "# $*"; }

# ok_if CMD...: the case passes if CMD succeeds.
ok_if() { if "$@"; then pass; else fail "failed: $*"; fi; }

# expect_fail CODE PATTERN CMD...: CMD exits CODE and its stderr matches
# PATTERN (grep -E) as one 'plein: ' line.
expect_fail() {
	local code=$1 pat=$2; shift 2
	local err rc
	err=$("$@" 2>&1 >/dev/null); rc=$?
	if [ "$rc" -ne "$code" ]; then fail "exit $rc, expected $code: $* -> $err"; return; fi
	if ! printf '%s\n' "$err" | grep -qE "^plein: .*$pat"; then fail "message '$err' does not match '$pat'"; return; fi
	if [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ]; then fail "more than one line: $err"; return; fi
	pass
}

# A fresh coordinator site in $TMP/$1.
new_site() { "$PLEIN" init "$TMP/$1" --new-network "Regio Test" --name "$1" >/dev/null; }

done_testing() { echo "1..$n"; [ "$failed" -eq 0 ]; exit $?; }
