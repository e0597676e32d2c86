#!/usr/bin/env bash
# End to end through the real daemon: smtp-source -> `salvo serve` (SMTP relay
# listener, spool with synced group commit, delivery engine) -> smtp-sink.
# The clock stops when smtp-sink has counted every message, so each one was
# accepted durably, scheduled, and delivered. Run as root from the repository
# root after building `salvo`:
#   bench/delivery/smtp_e2e.sh BUILD_DIR        # N=20000 SESSIONS=20 SIZE=1024
set -euo pipefail
BUILD="${1:-build/release}"
N="${N:-20000}"; SESSIONS="${SESSIONS:-20}"; SIZE="${SIZE:-1024}"
SALVO_PORT=2625; SINK_PORT=2526
PB=/work/shared/peer-bench
. "$PB/lib.sh"
work="$(mktemp -d /tmp/salvo-smtp-e2e.XXXXXX)"
cat > "$work/salvo.toml" <<TOML
[server]
data_dir = "$work/data"
log_level = "warn"
[[listener]]
name = "smtp"
kind = "smtp"
address = "127.0.0.1:$SALVO_PORT"
tls = "none"
max_message_size = "10MiB"
[delivery]
tls = "off"
max_connections = 20
[[route]]
domain = "example.test"
next_hop = "127.0.0.1:$SINK_PORT"
TOML
pb_sink_start salvo-e2e-sink "$SINK_PORT"
"$BUILD/cmd/salvo" serve --config "$work/salvo.toml" 2> "$work/salvo.log" &
salvo_pid=$!
cleanup() { kill "$salvo_pid" 2>/dev/null || true; wait "$salvo_pid" 2>/dev/null || true
            pb_sink_stop salvo-e2e-sink; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$SALVO_PORT) 2>/dev/null && break; sleep 0.1; done
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
before="$(pb_sink_count salvo-e2e-sink)"
cpu0="$(awk '{print $14+$15}' /proc/$salvo_pid/stat)"
start="$(date +%s.%N)"
/usr/sbin/smtp-source -s "$SESSIONS" -m "$N" -l "$SIZE" -f bench@sender.test \
  -t rcpt@example.test "127.0.0.1:$SALVO_PORT"
injected="$(date +%s.%N)"
deadline=$(( $(date +%s) + 300 ))
while [ "$(( $(pb_sink_count salvo-e2e-sink) - before ))" -lt "$N" ]; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "timed out; sink has $(( $(pb_sink_count salvo-e2e-sink) - before ))"; exit 1; }
  sleep 0.05
done
done_at="$(date +%s.%N)"
cpu1="$(awk '{print $14+$15}' /proc/$salvo_pid/stat)"
tick="$(getconf CLK_TCK)"
awk -v n="$N" -v s="$start" -v i="$injected" -v d="$done_at" -v c0="$cpu0" -v c1="$cpu1" -v t="$tick" 'BEGIN {
  printf "smtp accept (smtp-source, %d sessions): %.0f msgs/s\n", '"$SESSIONS"', n / (i - s);
  printf "end to end (accepted durably and delivered into smtp-sink): %.0f msgs/s, %.2f s\n", n / (d - s), d - s;
  printf "salvo CPU: %.3f ms/msg\n", (c1 - c0) / t * 1000 / n }'
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
