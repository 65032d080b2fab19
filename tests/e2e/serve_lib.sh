# Helpers for the daemon's end-to-end tests (tests/e2e/serve_*.sh), on top
# of lib.sh: start daemons in the background, wait for what they do with a
# bounded loop (never a timed assertion), stop them and check how.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

declare -A SERVE_PID=()
serve_cleanup() {
	for s in "${!SERVE_PID[@]}"; do kill -KILL "${SERVE_PID[$s]}" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap serve_cleanup EXIT

# serve SITE [ARGS...]: start 'plein -C SITE serve' logging to SITE.log.
serve() {
	local site=$1; shift
	"$PLEIN" -C "$TMP/$site" serve "$@" >>"$TMP/$site.out" 2>>"$TMP/$site.log" &
	SERVE_PID[$site]=$!
}

# stop SITE [SIGNAL]: signal the daemon (TERM), wait for it; its exit
# status is in $STOPPED (not echoed: wait must run in this shell).
STOPPED=""
stop() {
	local site=$1 sig=${2:-TERM}
	kill -"$sig" "${SERVE_PID[$site]}" 2>/dev/null
	wait "${SERVE_PID[$site]}"; STOPPED=$?
	unset "SERVE_PID[$site]"
}

# wait_for CMD...: poll until CMD succeeds, for at most WAIT_TRIES tenths
# of a second (default 600: a minute, which only a broken daemon needs).
wait_for() {
	local i
	for ((i = 0; i < ${WAIT_TRIES:-600}; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# has_log SITE PATTERN: the daemon's log has a line matching PATTERN (grep -E).
has_log() { grep -qE -- "$2" "$TMP/$1.log"; }
wait_log() { wait_for has_log "$@"; }

# The port a daemon listens on, from its log.
listen_port() { sed -n 's/.*listening for peers on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$TMP/$1.log" | tail -1; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# bulk_batches SITE LOCATION N ROWS PREFIX: N batches of ROWS daylog
# entries written with the sqlite3 shell, ids PREFIX + 19 digits, each
# sealed by a 'plein status'.
bulk_batches() {
	local i
	for i in $(seq 1 "$3"); do
		sqlite3 -cmd ".timeout 10000" "$TMP/$1/plein.db" "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < $4)
			INSERT INTO daylog(id, location_id, day, text)
			SELECT printf('$5%019d', $i * 10000 + k), '$2', '2026-11-30', 'bulk ' || k FROM n"
		"$PLEIN" -C "$TMP/$1" status >/dev/null
	done
}

same_digest() { [ "$("$PLEIN" -C "$TMP/$1" digest)" = "$("$PLEIN" -C "$TMP/$2" digest)" ]; }

# A network: coordinator SITE0 and branches joining it from its card,
# admitted by key so no batch is ever held.
new_network() {
	local co=$1; shift
	"$PLEIN" init "$TMP/$co" --new-network "Regio Test" --name "$co" >/dev/null
	"$PLEIN" -C "$TMP/$co" card >"$TMP/card.txt"
	local b
	for b in "$@"; do
		local id
		id=$("$PLEIN" init "$TMP/$b" --card "$TMP/card.txt" --name "$b" --role branch)
		"$PLEIN" -C "$TMP/$co" admit "$id" --name "$b" --role branch --key "$("$PLEIN" -C "$TMP/$b" id --key)" >/dev/null
	done
}
