#!/usr/bin/env bash
# --log_format=json: every line linebridged writes on stderr is one JSON
# object with time, level and message; SIGUSR1/SIGUSR2 change the level at
# run time; bad --log_format/--log_level values stop the daemon with a clear
# error.
source "$(dirname "$0")/lib.sh"

"$BIN/linebridged" --log_format=xml >"$E2E_TMP/bad" 2>&1 && fail "--log_format=xml was accepted"
grep -q -- '--log_format: "xml" is not text or json' "$E2E_TMP/bad" || fail "$(cat "$E2E_TMP/bad")"
"$BIN/linebridged" --log_level=verbose >"$E2E_TMP/bad" 2>&1 && fail "--log_level=verbose was accepted"
grep -q -- '--log_level: "verbose" is not' "$E2E_TMP/bad" || fail "$(cat "$E2E_TMP/bad")"
pass "bad --log_format / --log_level values are refused"

start_daemon 127.0.0.1:0 --log_format=json --log_level=warning
ctl status >/dev/null
kill -USR1 "$DAEMON_PID"
wait_for "$E2E_TMP/daemon.log" '"message":"SIGUSR1: log level debug"'
kill -USR2 "$DAEMON_PID"
wait_for "$E2E_TMP/daemon.log" '"message":"SIGUSR2: log level warning"'
stop_daemon
python3 - "$E2E_TMP/daemon.log" <<'PY' || fail "not JSON lines: $(cat "$E2E_TMP/daemon.log")"
import json, re, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert lines, "no log lines"
for text in lines:
    obj = json.loads(text)
    assert list(obj)[:3] == ["time", "level", "message"], text
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", obj["time"]), text
    assert obj["level"] in ("debug", "info", "warning", "error"), text
# --log_level=warning: the start line (info) is not there; the level changes are.
assert not any("listening on" in l for l in lines), lines
assert any("SIGUSR1: log level debug" in l for l in lines), lines
PY
pass "every log line is a JSON object; SIGUSR1/SIGUSR2 change the level at run time"

# The default (text, info): the start line says where it listens.
start_daemon
wait_for "$E2E_TMP/daemon.log" 'Z linebridged .* listening on 127\.0\.0\.1:'
pass "text log by default"
