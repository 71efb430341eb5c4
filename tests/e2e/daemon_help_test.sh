#!/usr/bin/env bash
# `linebridged --help` (and --helpshort) list the daemon's own flags with
# their help text, not "No flags matched".
source "$(dirname "$0")/lib.sh"

for flag in --help --helpshort; do
  "$BIN/linebridged" "$flag" >"$E2E_TMP/help" 2>&1 || true
  ! grep -q "No flags matched" "$E2E_TMP/help" || fail "$flag: $(cat "$E2E_TMP/help")"
  grep -q '^linebridged: linebridged \[--config FILE\]' "$E2E_TMP/help" || fail "$flag: no usage line"
  for name in config listen data_dir tls_cert tls_key tls_client_ca port_file log_format \
      log_level print_config check_config bootstrap_admin; do
    grep -Eq -- "^ +--$name \(" "$E2E_TMP/help" || fail "$flag does not list --$name: $(cat "$E2E_TMP/help")"
  done
  grep -q "Flags from server/daemon/main.cc:" "$E2E_TMP/help" || fail "$flag: source path"
  grep -q "Write the bound port to this file once serving" "$E2E_TMP/help" || fail "$flag: no help text"
  pass "$flag lists every flag of linebridged"
done
