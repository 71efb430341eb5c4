#!/usr/bin/env bash
# Principals, line assignments, tokens, tsecimp XML and the audit log with the
# real binaries: the local admin (plaintext loopback) sets things up with
# linectl, a user acts with its token and sees only what it was given.
source "$(dirname "$0")/lib.sh"


start_daemon
ctl whoami | has '^principal local role=admin via=loopback' || fail "whoami: $(ctl whoami)"
pass "anonymous loopback client is the local admin"

# --- principals, assignments, tokens ---------------------------------------------------
ctl principal add 'CORP\alice' --display-name "Alice Agent" >/dev/null
ctl assign 'CORP\alice' sim/101 >/dev/null
ctl assign 'CORP\alice' sim/102 --control >/dev/null
ctl principal list | has 'CORP\\alice .*user .*sim/101(monitor) sim/102(monitor,control)' \
  || fail "principal list: $(ctl principal list)"
ctl token issue --principal 'CORP\alice' --ttl 1h --description e2e >"$E2E_TMP/alice.token" \
  2>"$E2E_TMP/issue.log"
TOKEN=$(cat "$E2E_TMP/alice.token")
[[ "$TOKEN" =~ ^lb1\.[0-9a-f]{16}\.[0-9a-f]{64}$ ]] || fail "token format: $TOKEN"
TOKEN_ID=$(echo "$TOKEN" | cut -d. -f2)
grep -q "token $TOKEN_ID for CORP" "$E2E_TMP/issue.log" || fail "issue log: $(cat "$E2E_TMP/issue.log")"
ctl token list | has "^$TOKEN_ID .*CORP\\\\alice .*valid" || fail "token list: $(ctl token list)"
SECRET=$(echo "$TOKEN" | cut -d. -f3)
if ctl token list | has "$SECRET"; then fail "token list shows the secret"; fi
pass "principal add/list, assign, token issue (shown once) and list (ids only)"

alice() { LINEBRIDGE_TOKEN_FILE="$E2E_TMP/alice.token" ctl "$@"; }
alice whoami | has 'principal CORP\\alice role=user .*via=token' || fail "alice whoami: $(alice whoami)"
[ "$(alice lines | awk 'NR > 1 {print $1}' | tr '\n' ' ')" = "sim/101 sim/102 " ] \
  || fail "alice sees: $(alice lines)"
expect_fail 1 "$E2E_TMP/err" alice lines status sim/100
grep -q 'NOT_FOUND' "$E2E_TMP/err" || fail "hidden line: $(cat "$E2E_TMP/err")"
expect_fail 1 "$E2E_TMP/err" alice call make sim/102 103
grep -q 'PERMISSION_DENIED.*LINEERR_OPERATIONFAILED\|LINEERR_OPERATIONFAILED.*PERMISSION_DENIED' "$E2E_TMP/err" \
  || fail "originate without the grant: $(cat "$E2E_TMP/err")"
expect_fail 1 "$E2E_TMP/err" alice status
grep -q 'PERMISSION_DENIED' "$E2E_TMP/err" || fail "admin RPC as user: $(cat "$E2E_TMP/err")"
expect_fail 1 "$E2E_TMP/err" alice token issue --principal 'CORP\alice'
grep -q 'PERMISSION_DENIED' "$E2E_TMP/err" || fail "token issue as user: $(cat "$E2E_TMP/err")"
pass "the user sees only its lines, cannot originate without the grant nor use admin commands"

ctl call make sim/100 101 >/dev/null
LEG=$(call_on sim/101)
[ -n "$LEG" ] || fail "no call on sim/101"
expect_fail 1 "$E2E_TMP/err" alice call drop "$LEG"
grep -q 'LINEERR_NOTOWNER' "$E2E_TMP/err" || fail "monitor-only drop: $(cat "$E2E_TMP/err")"
ctl call drop "$LEG" >/dev/null
pass "monitor-only cannot drop"

ctl token revoke "$TOKEN_ID" | has "revoked token $TOKEN_ID" || fail "revoke"
expect_fail 1 "$E2E_TMP/err" alice lines
grep -q 'revoked.*UNAUTHENTICATED' "$E2E_TMP/err" || fail "revoked token: $(cat "$E2E_TMP/err")"
ctl token list | has "^$TOKEN_ID .*revoked" || fail "token list after revoke"
pass "a revoked token is refused"

# --- audit -----------------------------------------------------------------------------
ctl audit --principal 'CORP\alice' >"$E2E_TMP/audit"
grep -Eq 'CORP\\alice +Drop +sim/101 +[^ ]+ +7 LINEERR_NOTOWNER' "$E2E_TMP/audit" \
  || fail "audit (alice): $(cat "$E2E_TMP/audit")"
grep -Eq 'CORP\\alice +MakeCall +sim/102 .*7 LINEERR_OPERATIONFAILED +103' "$E2E_TMP/audit" \
  || fail "audit (alice make): $(cat "$E2E_TMP/audit")"
ctl audit --since 1h --limit 50 >"$E2E_TMP/audit-all"
grep -Eq 'local +Security.IssueToken .*OK' "$E2E_TMP/audit-all" || fail "audit issue: $(cat "$E2E_TMP/audit-all")"
grep -Eq 'local +Security.RevokeToken .*OK +principal= token '"$TOKEN_ID" "$E2E_TMP/audit-all" \
  || fail "audit revoke: $(cat "$E2E_TMP/audit-all")"
[ "$(ctl audit --limit 1 | wc -l)" -eq 2 ] || fail "audit --limit 1"
pass "linectl audit shows denied operations and admin changes"

# --- tsecimp XML -----------------------------------------------------------------------
PID104=$(ctl --json lines caps sim/104 | python3 -c 'import json,sys; print(json.load(sys.stdin)["caps"]["permanent_line_id"])')
cat >"$E2E_TMP/tsec.xml" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<UserList>
  <User NoMerge="1">
    <DomainUserName>CORP\bob</DomainUserName>
    <FriendlyName>Bob &amp; Co</FriendlyName>
    <LineList>
      <Line><Address>103</Address></Line>
      <Line><PermanentID>$PID104</PermanentID></Line>
    </LineList>
  </User>
  <User>
    <DomainUserName>CORP\alice</DomainUserName>
    <LineList>
      <Line Remove="1"><Address>101</Address></Line>
    </LineList>
  </User>
</UserList>
EOF
ctl tsec import "$E2E_TMP/tsec.xml" | has 'imported 2 users: 2 lines assigned, 1 removed' \
  || fail "tsec import"
ctl principal list >"$E2E_TMP/principals"
grep -q 'CORP\\bob .*user .*Bob & Co .*sim/103(monitor,control,originate) sim/104(monitor,control,originate)' \
  "$E2E_TMP/principals" || fail "after import: $(cat "$E2E_TMP/principals")"
grep -q 'CORP\\alice .*sim/102(monitor,control)$' "$E2E_TMP/principals" \
  || fail "Remove=1 did not remove sim/101: $(cat "$E2E_TMP/principals")"
pass "tsec import: users, Address and PermanentID lines, Remove"

ctl tsec export "$E2E_TMP/export1.xml" >/dev/null
grep -q "<PermanentID>$PID104</PermanentID>" "$E2E_TMP/export1.xml" || fail "export: $(cat "$E2E_TMP/export1.xml")"
ctl principal remove 'CORP\bob' >/dev/null
ctl principal remove 'CORP\alice' >/dev/null
ctl tsec import "$E2E_TMP/export1.xml" >/dev/null
ctl tsec export - >"$E2E_TMP/export2.xml"
diff "$E2E_TMP/export1.xml" "$E2E_TMP/export2.xml" || fail "tsec export -> import -> export differs"
pass "tsec export / import round trip"

# --- no secrets in the log -------------------------------------------------------------
if grep -q "$SECRET" "$E2E_TMP/daemon.log"; then fail "the daemon log holds a token secret"; fi
stop_daemon

# --- credentials required on loopback, bootstrap admin --------------------------------------
printf 'auth { require_credentials_on_loopback: true }\n' >"$E2E_TMP/strict.textproto"
"$BIN/linebridged" --config "$E2E_TMP/strict.textproto" --data_dir "$E2E_TMP/data" \
  --bootstrap_admin root >"$E2E_TMP/root.token" 2>/dev/null || fail "bootstrap"
start_daemon 127.0.0.1:0 --config "$E2E_TMP/strict.textproto"
expect_fail 1 "$E2E_TMP/err" ctl lines
grep -q 'UNAUTHENTICATED' "$E2E_TMP/err" || fail "anonymous on strict loopback: $(cat "$E2E_TMP/err")"
LINEBRIDGE_TOKEN_FILE="$E2E_TMP/root.token" ctl whoami | has 'principal root role=admin via=token' \
  || fail "bootstrap admin token"
# A token made while the daemon runs is seen after SIGHUP.
"$BIN/linebridged" --data_dir "$E2E_TMP/data" --bootstrap_admin root2 >"$E2E_TMP/root2.token" 2>/dev/null
kill -HUP "$DAEMON_PID"
wait_for "$E2E_TMP/daemon.log" 'SIGHUP: principals and tokens re-read' 5
LINEBRIDGE_TOKEN_FILE="$E2E_TMP/root2.token" ctl whoami | has 'principal root2 role=admin' \
  || fail "token bootstrapped while running"
pass "require_credentials_on_loopback; --bootstrap_admin; SIGHUP re-reads the store"
