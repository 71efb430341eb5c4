#!/usr/bin/env bash
# A bad configuration stops the daemon with the file, line and field; a good
# one is served, and a reload adds and removes lines at runtime.
source "$(dirname "$0")/lib.sh"

cat >"$E2E_TMP/bad.textproto" <<'EOF'
listen: "127.0.0.1:0"
providers {
  sim {
    extensions { number: "201" name: "A" }
    extensions { number: "201" name: "B" }
  }
}
EOF
if "$BIN/linebridged" --config "$E2E_TMP/bad.textproto" --data_dir "$E2E_TMP/d" \
    >"$E2E_TMP/out" 2>&1; then
  fail "linebridged accepted a duplicate extension"
fi
cat "$E2E_TMP/out"
grep -q 'bad.textproto:5: providers\[0\]\.sim\.extensions\[1\]\.number' "$E2E_TMP/out" \
  || fail "error does not name file, line and field"
pass "semantic error names file:line: field"

printf 'listen: "127.0.0.1:0"\njournal_capacity: "lots"\n' >"$E2E_TMP/syntax.textproto"
status=0
"$BIN/linebridged" --config "$E2E_TMP/syntax.textproto" >"$E2E_TMP/out" 2>&1 || status=$?
[ $status -eq 2 ] || fail "exit status $status for a syntax error, want 2"
grep -q 'syntax.textproto:2:' "$E2E_TMP/out" || fail "syntax error without line: $(cat "$E2E_TMP/out")"
pass "syntax error names file:line:column"

cat >"$E2E_TMP/lb.textproto" <<'EOF'
providers {
  sim {
    name: "office"
    extensions { number: "201" name: "Reception" }
    extensions { number: "202" name: "Back Office" }
  }
}
EOF
"$BIN/linebridged" --config "$E2E_TMP/lb.textproto" --check_config >/dev/null \
  || fail "--check_config rejected a valid file"
start_daemon 127.0.0.1:0 --config "$E2E_TMP/lb.textproto"
ctl lines | has '^office/201 ' || fail "configured line office/201 missing"
start_watch watch.log
sed -i 's/extensions { number: "202" name: "Back Office" }/extensions { number: "203" name: "Annex" }/' \
  "$E2E_TMP/lb.textproto"
ctl reload
wait_for "$E2E_TMP/watch.log" "line_created office/203"
wait_for "$E2E_TMP/watch.log" "line_removed office/202"
ctl lines | has '^office/203 ' || fail "reloaded line office/203 missing"
pass "config reload adds and removes lines with events"
