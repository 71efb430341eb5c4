#!/usr/bin/env bash
# Metrics and the health listener against the real tools: linebridged with
# `metrics` and `health` on loopback, Debian's prometheus scraping it, a
# scripted set of calls through linectl, then Prometheus' HTTP query API must
# return the series with the values those calls imply. `promtool check
# metrics` accepts the exposition; `linectl health` reads SERVING from the
# plaintext health listener and from the main one; SIGTERM stops the daemon
# cleanly (exit 0, no sanitizer report).
source "$(dirname "$0")/lib.sh"
for t in prometheus promtool curl; do
  command -v "$t" >/dev/null || fail "$t not installed (scripts/bootstrap.sh --test)"
done

cat >"$E2E_TMP/lb.conf" <<CONF
health { listen: "127.0.0.1:0" }
metrics { listen: "127.0.0.1:0" }
CONF
start_daemon 127.0.0.1:0 --config "$E2E_TMP/lb.conf"
wait_for "$E2E_TMP/daemon.log" 'metrics on http://' 10
health=$(sed -n 's/.*health checks only) on \([0-9.:]*\).*/\1/p' "$E2E_TMP/daemon.log")
metrics=$(sed -n 's|.*metrics on http://\([0-9.:]*\)/metrics.*|\1|p' "$E2E_TMP/daemon.log")
[ -n "$health" ] && [ -n "$metrics" ] || fail "no health or metrics address in the log"

out=$(ctl --server "$health" health) || fail "health on the health listener: $out"
[ "$out" = "$health SERVING" ] || fail "health listener said: $out"
ctl health >/dev/null || fail "health on the main listener"
# The health listener serves nothing else.
if ctl --server "$health" lines >/dev/null 2>&1; then fail "the health listener served ListLines"; fi
pass "linectl health: SERVING on the health listener and the main one"

curl -sf --max-time 5 "http://$metrics/metrics" >"$E2E_TMP/first.prom" || fail "GET /metrics"
promtool check metrics <"$E2E_TMP/first.prom" || fail "promtool rejects the exposition"
has '^linebridge_lines{provider_type="sim",provider="sim",state="in_service"} 9$' "$E2E_TMP/first.prom" ||
  fail "no 9 in-service sim lines in: $(grep linebridge_lines "$E2E_TMP/first.prom")"
pass "the exposition passes promtool check metrics"

prom_port=$(free_port)
cat >"$E2E_TMP/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: linebridge
    static_configs:
      - targets: ["$metrics"]
CONF
prometheus --config.file="$E2E_TMP/prometheus.yml" --storage.tsdb.path="$E2E_TMP/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" >"$E2E_TMP/prometheus.log" 2>&1 &
BACKGROUND_PIDS+=($!)

# The scripted calls: 100 -> 101 answered and hung up on both sides; 100 ->
# the busy external, dropped; a drop of a call that does not exist.
out=$(ctl call make sim/100 101)
A=$(awk '$1 == "call" {print $2; exit}' <<<"$out")
B=$(call_on sim/101)
[ -n "$A" ] && [ -n "$B" ] || fail "call 100 -> 101: $out"
ctl call answer "$B" >/dev/null
ctl call drop "$A" >/dev/null
ctl call drop "$B" >/dev/null
out=$(ctl call make sim/100 5550101)
C=$(awk '$1 == "call" {print $2; exit}' <<<"$out")
[ -n "$C" ] || fail "call to the busy number: $out"
ctl call drop "$C" >/dev/null
if ctl call drop no-such-call >/dev/null 2>&1; then fail "dropping no call succeeded"; fi
pass "scripted calls made"

# query EXPR: the value of a one-series instant query ("" if no series).
query() {
  curl -sf --max-time 5 "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" |
    python3 -c 'import json,sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if len(r) == 1 else ("" if not r else "many:%d" % len(r)))'
}
expect=(
  'up{job="linebridge"}=1'
  'linebridge_lines{provider="sim",state="in_service"}=9'
  'linebridge_lines{provider="sim",state="out_of_service"}=0'
  'sum(linebridge_calls)=0'
  'linebridge_call_setups_total{origin="outbound"}=2'
  'sum(linebridge_call_setups_total)=3'
  'linebridge_calls_ended_total{origin="outbound",answered="true",disconnect_mode="normal"}=1'
  'sum(linebridge_calls_ended_total{answered="true"})=2'
  'linebridge_calls_ended_total{origin="outbound",answered="false",disconnect_mode="busy"}=1'
  'linebridge_call_records_written_total=3'
  'linebridge_call_records_queue_depth=0'
  'linebridge_grpc_requests_total{method="MakeCall",code="OK"}=2'
  'linebridge_grpc_requests_total{method="Drop",code="OK"}=3'
  'linebridge_grpc_requests_total{method="Drop",code="NOT_FOUND"}=1'
  'linebridge_grpc_request_duration_seconds_count{method="MakeCall"}=2'
  'linebridge_sessions=0'
)
deadline=$((SECONDS + 45))
while :; do
  missing=()
  for e in "${expect[@]}"; do
    got=$(query "${e%=*}" 2>/dev/null || true)
    [ "$got" = "${e##*=}" ] || missing+=("${e%=*} is '${got}', want ${e##*=}")
  done
  ((${#missing[@]} == 0)) && break
  if ((SECONDS > deadline)); then
    printf '  %s\n' "${missing[@]}"
    tail -n 20 "$E2E_TMP/prometheus.log"
    fail "Prometheus did not report the expected series within 45 s"
  fi
  sleep 0.5
done
pass "Prometheus' query API returns the ${#expect[@]} expected series and values"

# The Grafana dashboard and the reference: every series the daemon exports is
# in docs/metrics.md; every series the dashboard uses is documented and (but
# the modem ones: no modem here) exported; Prometheus accepts every query of
# the dashboard.
repo="$(cd "$(dirname "$0")/../.." && pwd)"
dashboard="$repo/deploy/grafana/linebridge.json"
curl -sf --max-time 5 "http://$metrics/metrics" >"$E2E_TMP/last.prom" || fail "GET /metrics"
for family in $(sed -n 's/^# TYPE \(linebridge_[a-z_]*\) .*/\1/p' "$E2E_TMP/last.prom"); do
  has -F "\`$family\`" "$repo/docs/metrics.md" || fail "$family is not in docs/metrics.md"
done
for name in $(grep -o 'linebridge_[a-z_]*' "$dashboard" | sort -u); do
  family=${name%_bucket}
  has -F "\`$family\`" "$repo/docs/metrics.md" || fail "the dashboard's $name is not documented"
  case $family in linebridge_modem_*) continue ;; esac
  has "^$name[{ ]" "$E2E_TMP/last.prom" || fail "the dashboard's $name is not exported"
done
python3 - "$dashboard" "$prom_port" <<'PY' || fail "Prometheus rejects a query of the dashboard"
import json, sys, urllib.parse, urllib.request
dash = json.load(open(sys.argv[1]))
n = 0
for panel in dash["panels"]:
    for target in panel.get("targets", []):
        expr = target["expr"].replace("$__rate_interval", "1m").replace("$instance", ".*")
        url = "http://127.0.0.1:%s/api/v1/query?%s" % (sys.argv[2], urllib.parse.urlencode({"query": expr}))
        try:
            reply = json.load(urllib.request.urlopen(url, timeout=5))
        except Exception as e:
            sys.exit("%s: %s (%s)" % (panel["title"], expr, e))
        if reply.get("status") != "success":
            sys.exit("%s: %s: %s" % (panel["title"], expr, reply))
        n += 1
print("ok: Prometheus accepts the dashboard's %d queries" % n)
PY
pass "docs/metrics.md covers every exported family; the dashboard's series exist"

kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
DAEMON_PID=""
[ "$rc" -eq 0 ] || fail "linebridged exited with $rc on SIGTERM"
if grep -Eq 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$E2E_TMP/daemon.log"; then
  fail "sanitizer report in the daemon log"
fi
pass "SIGTERM: linebridged stopped cleanly"
