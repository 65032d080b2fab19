#!/usr/bin/env bash
# plein serve on its own: it starts, says so in its log, seals what a
# sqlite3 shell wrote without being asked, refuses bad addresses with one
# line, and stops cleanly with exit 0 on SIGTERM and on SIGINT.
. "$(dirname "$0")/serve_lib.sh"

new_site a
L=$(plein -C a location add --name Centrum --kind branch)

t "serve starts and logs where it listens"
serve a --listen 127.0.0.1:0
if wait_log a "info: plein serve: site a \(" && wait_log a "info: listening for peers on 127\.0\.0\.1:[0-9]+$"; then
	pass; else fail "$(cat a.log)"; fi

t "it accepts a TCP connection on that port"
port=$(listen_port a)
ok_if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 5).close()"

t "a change made with the sqlite3 shell is sealed by the daemon, with no plein command run"
sqlite3 -cmd ".timeout 10000" a/plein.db \
	"INSERT INTO daylog(id, location_id, day, text) VALUES ('01JDAEMONSHELL0000000000AA', '$L', '2026-12-01', 'uit de shell')"
unsealed() { sqlite3 -cmd ".timeout 10000" a/plein.db "SELECT count(*) FROM plein_capture" | grep -qx 0; }
if wait_for unsealed && wait_log a "info: sealed 1 changes as batch [0-9]+"; then pass; else fail "$(cat a.log)"; fi

t "the sealed batch is in the log, signed: verify passes"
ok_if sh -c "'$PLEIN' -C a verify >/dev/null"

t "--max-connections: one peer too many is refused at once, and the log says so once"
stop a
: >a.log
serve a --listen 127.0.0.1:0 --max-connections 1 --verbose
wait_log a "listening for peers"
port=$(listen_port a)
# A client that connects and says nothing: it holds the one place.
python3 -c "import socket, time; s = socket.create_connection(('127.0.0.1', $port)); time.sleep(120)" &
holder=$!
wait_log a "debug: a peer connected from 127\.0\.0\.1:"
if python3 -c "
import socket
s = socket.create_connection(('127.0.0.1', $port), 10)
s.settimeout(10)
try:
    data = s.recv(1)
except ConnectionResetError:
    data = b''
assert data == b'', data
" && wait_log a "warn: refused 1 connection \(last from 127\.0\.0\.1:[0-9]+\): 1 peers are connected"; then
	pass; else fail "$(cat a.log)"; fi

t "a peer holding a connection open does not hold up a stop: SIGTERM still exits 0"
stop a TERM
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
if [ "$STOPPED" = 0 ] && has_log a "info: stopped$"; then pass; else fail "exit $STOPPED: $(tail -5 a.log)"; fi
: >a.log

t "SIGTERM stops it cleanly: exit 0, 'stopped' logged"
serve a
wait_log a "plein serve: site"
stop a TERM
if [ "$STOPPED" = 0 ] && has_log a "info: SIGTERM: stopping" && has_log a "info: stopped$"; then pass; else fail "exit $STOPPED: $(cat a.log)"; fi

t "every log line is one event: time, level, message"
ok_if test "$(grep -cvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z (error|warn|info|debug): .' a.log)" = 0

t "without --verbose there are no debug lines"
ok_if test "$(grep -c ' debug: ' a.log)" = 0

t "SIGINT stops it cleanly too; --verbose adds debug lines"
: >a.log
serve a --verbose
wait_log a "plein serve: site"
wait_log a " debug: "
stop a INT
if [ "$STOPPED" = 0 ] && has_log a "info: SIGINT: stopping" && has_log a " debug: "; then pass; else fail "exit $STOPPED: $(cat a.log)"; fi

t "under systemd (JOURNAL_STREAM names stderr) lines carry the journal's priority prefix"
: >a.log
js=$(stat -c '%d:%i' a.log)
JOURNAL_STREAM=$js "$PLEIN" -C a serve 2>>a.log &
SERVE_PID[a]=$!
wait_log a "plein serve: site"
stop a TERM
if [ "$STOPPED" = 0 ] && grep -q '^<6>plein serve: site a' a.log && [ "$(grep -cv '^<[3467]>' a.log)" = 0 ]; then
	pass; else fail "$(cat a.log)"; fi

t "a listen address that is not HOST:PORT is a usage error, one line"
expect_fail 1 "'nergens' is not HOST:PORT" plein -C a serve --listen nergens

t "a port that is taken: exit 2, says so"
: >a.log
serve a --listen 127.0.0.1:0
wait_log a "listening for peers"
port=$(listen_port a)
expect_fail 2 "cannot listen on 127\.0\.0\.1:$port" plein -C a serve --listen "127.0.0.1:$port"
stop a

t "site.listen in plein.conf is used when --listen is not given"
: >a.log
printf '[site]\nlisten = 127.0.0.1:0\n' >>a/plein.conf
serve a
ok_if wait_log a "listening for peers on 127\.0\.0\.1:[0-9]+"
stop a

t "--http: the HTTP face starts, or serve fails loudly when it cannot"
: >a.log
"$PLEIN" -C a serve --http 127.0.0.1:0 2>>a.log &
SERVE_PID[a]=$!
wait_for sh -c "grep -qE 'HTTP on http://127\.0\.0\.1:[0-9]+/|^plein: ' a.log || ! kill -0 ${SERVE_PID[a]}"
if has_log a "HTTP on http://127\.0\.0\.1:[0-9]+/"; then
	stop a
	[ "$STOPPED" = 0 ] && pass || fail "exit $STOPPED"
else
	wait "${SERVE_PID[a]}"; rc=$?; unset "SERVE_PID[a]"
	if [ "$rc" = 2 ] && [ "$(grep -c '^plein: --http 127.0.0.1:0: ' a.log)" = 1 ]; then pass; else fail "exit $rc: $(cat a.log)"; fi
fi

t "--max-connections must be a number"
expect_fail 1 "--max-connections must be a whole number" plein -C a serve --max-connections lots

done_testing
