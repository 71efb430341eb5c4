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

# --- a reload that fails changes nothing -----------------------------------------
cp "$E2E_TMP/lb.textproto" "$E2E_TMP/good.textproto"
printf 'providers { sim { name: "office"\n' >"$E2E_TMP/lb.textproto"
expect_fail 1 "$E2E_TMP/err" ctl reload
grep -q "lb.textproto:2:1: .*(INVALID_ARGUMENT, LINEERR_INVALPARAM)" "$E2E_TMP/err" ||
  fail "syntax error on reload: $(cat "$E2E_TMP/err")"
printf 'journal_capacity: 1\n' >"$E2E_TMP/lb.textproto"
expect_fail 1 "$E2E_TMP/err" ctl reload
grep -q "lb.textproto:1: journal_capacity: 1 out of range" "$E2E_TMP/err" ||
  fail "invalid value on reload: $(cat "$E2E_TMP/err")"
rm "$E2E_TMP/lb.textproto"
expect_fail 1 "$E2E_TMP/err" ctl reload
grep -q "cannot read config file .*lb.textproto: No such file or directory (NOT_FOUND" "$E2E_TMP/err" ||
  fail "missing file on reload: $(cat "$E2E_TMP/err")"
printf 'providers { modem { name: "office" ports { name: "m" device: "/dev/null" } } }\nproviders { sim { name: "bad" extensions { number: "x" } } }\n' \
  >"$E2E_TMP/lb.textproto"
expect_fail 1 "$E2E_TMP/err" ctl reload
grep -q 'providers\[1\].sim' "$E2E_TMP/err" || fail "bad second provider on reload: $(cat "$E2E_TMP/err")"
[ "$(ctl lines | awk 'NR > 1 {print $1}' | sort | tr '\n' ' ')" = "office/201 office/203 " ] ||
  fail "a failed reload changed the lines: $(ctl lines)"
ctl status | has 'providers: sim:office$' || fail "a failed reload changed the providers: $(ctl status)"
pass "failed reloads (syntax, value, missing file, bad provider) name the problem and change nothing"

# --- a provider block removed or changed in kind goes, with its lines --------------
printf 'providers { modem { name: "office" ports { name: "m" device: "%s/nodev" } } }\nproviders { sim { name: "lab" extensions { number: "301" } } }\n' \
  "$E2E_TMP" >"$E2E_TMP/lb.textproto"
out=$(ctl reload)
for want in "added office/m" "added lab/301" "removed office/201" "removed office/203"; do
  grep -qx "$want" <<<"$out" || fail "reload to modem+lab: no '$want' in: $out"
done
wait_for "$E2E_TMP/watch.log" "line_removed office/201"
[ "$(ctl lines | awk 'NR > 1 {print $1 "=" $3}' | sort | tr '\n' ' ')" = "lab/301=sim office/m=modem " ] ||
  fail "lines after the reload: $(ctl lines)"
ctl status | has 'providers: modem:office, sim:lab$' || fail "providers: $(ctl status)"
cp "$E2E_TMP/good.textproto" "$E2E_TMP/lb.textproto"
out=$(ctl reload)
for want in "added office/201" "added office/203" "removed office/m" "removed lab/301"; do
  grep -qx "$want" <<<"$out" || fail "reload back: no '$want' in: $out"
done
pass "reload removes providers no longer configured and replaces one whose kind changed"

# --- a daemon without a configuration file cannot reload -------------------------
stop_daemon
start_daemon 127.0.0.1:0
expect_fail 1 "$E2E_TMP/err" ctl reload
grep -q "this server cannot reload its config (UNIMPLEMENTED, LINEERR_OPERATIONUNAVAIL)" \
  "$E2E_TMP/err" || fail "reload without a file: $(cat "$E2E_TMP/err")"
pass "reload without a configuration file: UNIMPLEMENTED"
