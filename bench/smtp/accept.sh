#!/usr/bin/env bash
# Durable SMTP accepts (issue 6): smtp-source, 20 sessions, 1 KB messages,
# many messages per connection (MODE=reuse, smtp-source -d, as
# ../shared/peer-bench measures Postfix and the ceiling; MODE=conn opens a
# connection per message), three runs interleaved per repetition so that
# they share the machine's noise:
#   ceiling  smtp-source -> smtp-sink (no MTA: the client's and the sink's cost)
#   hold     smtp-source -> salvo with [delivery] hold = true: every message
#            acknowledged only once durable (synced group commit), nothing sent
#   deliver  smtp-source -> salvo -> smtp-sink: accepts while delivering, the
#            clock for "end to end" stops when the sink has every message
# Salvo's CPU per message is its process's user+sys time over the run; the
# client's (smtp-source's) is shown beside it, since both share the 2 cores.
# NOSYNC=1 adds, per repetition, accept-only with [queue] sync_wal = false (no
# fdatasync before the 250: NOT durable, never for production) to show what
# the sync costs on this machine's disk.
# Postfix in the same run: WITH_POSTFIX=1 runs ../shared/peer-bench/run-postfix.sh
# (needs its setup.sh; it reconfigures the system Postfix) after the others.
#
# Run as root from the repository root after building `salvo`:
#   bench/smtp/accept.sh BUILD_DIR      # N=20000 SESSIONS=20 SIZE=1024 REPS=3 MODE=reuse
set -euo pipefail
BUILD="${1:-build/release}"
N="${N:-20000}"; SESSIONS="${SESSIONS:-20}"; SIZE="${SIZE:-1024}"; REPS="${REPS:-3}"
MODE="${MODE:-reuse}"
case "$MODE" in reuse) dflag=(-d);; conn) dflag=();; *) echo "bad MODE $MODE" >&2; exit 2;; esac
SALVO_PORT=2625; SINK_PORT=2526
PB=/work/shared/peer-bench
. "$PB/lib.sh"
work="$(mktemp -d /tmp/salvo-accept.XXXXXX)"
salvo_pid=""

write_config() {  # write_config HOLD [SYNC_WAL]
  cat > "$work/salvo.toml" <<TOML
[queue]
sync_wal = ${2:-true}
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
hold = $1
tls = "off"
max_connections = 20
[[route]]
domain = "example.test"
next_hop = "127.0.0.1:$SINK_PORT"
TOML
}
start_salvo() {  # start_salvo HOLD [SYNC_WAL]
  rm -rf "$work/data"
  write_config "$1" "${2:-true}"
  "$BUILD/cmd/salvo" serve --config "$work/salvo.toml" 2>> "$work/salvo.log" &
  salvo_pid=$!
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$SALVO_PORT) 2>/dev/null && return; sleep 0.1; done
  pb_die "salvo did not start: $(tail -5 "$work/salvo.log")"
}
stop_salvo() {
  [ -n "$salvo_pid" ] || return 0
  kill "$salvo_pid" 2>/dev/null || true; wait "$salvo_pid" 2>/dev/null || true; salvo_pid=""
}
cleanup() { stop_salvo; pb_sink_stop salvo-accept-sink; rm -rf "$work"; }
trap cleanup EXIT
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
inject() {  # inject PORT -> smtp-source; fails the bench if any message is refused.
  # The client's own CPU (user+sys seconds) goes to $work/client_cpu.
  local TIMEFORMAT='%U %S'
  { time /usr/sbin/smtp-source -4 "${dflag[@]}" -s "$SESSIONS" -m "$N" -l "$SIZE" \
      -f bench@sender.test -t rcpt@example.test "127.0.0.1:$1" >/dev/null; } 2> "$work/client_cpu"
}
client_ms() { awk -v n="$N" '{printf "%.3f", ($1 + $2) * 1000 / n}' "$work/client_cpu"; }
wait_sink() {  # wait_sink BASE -> until the sink has N more messages (300 s at most)
  local deadline=$(( $(date +%s) + 300 ))
  while [ "$(( $(pb_sink_count salvo-accept-sink) - $1 ))" -lt "$N" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || pb_die "sink has $(( $(pb_sink_count salvo-accept-sink) - $1 ))/$N"
    sleep 0.02
  done
}
tick="$(getconf CLK_TCK)"
rate() { pb_calc "$N / ($2 - $1)"; }

pb_sink_start salvo-accept-sink "$SINK_PORT"
echo "== N=$N sessions=$SESSIONS size=$SIZE reps=$REPS mode=$MODE; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'rep\tceiling_msgs_s\tceiling_client_ms\thold_msgs_s\thold_cpu_ms\thold_client_ms\tdeliver_inject_msgs_s\tdeliver_e2e_msgs_s\tdeliver_cpu_ms%s\n' \
  "$([ "${NOSYNC:-0}" = 1 ] && printf '\thold_nosync_msgs_s\thold_nosync_cpu_ms')"
for rep in $(seq 1 "$REPS"); do
  base="$(pb_sink_count salvo-accept-sink)"; t0="$(pb_now)"
  inject "$SINK_PORT"; wait_sink "$base"; t1="$(pb_now)"
  ceiling="$(rate "$t0" "$t1")"; ceiling_client="$(client_ms)"

  start_salvo true
  c0="$(cpu_ticks "$salvo_pid")"; t0="$(pb_now)"
  inject "$SALVO_PORT"; t1="$(pb_now)"; c1="$(cpu_ticks "$salvo_pid")"
  hold="$(rate "$t0" "$t1")"; hold_cpu="$(pb_calc "($c1 - $c0) / $tick * 1000 / $N")"
  hold_client="$(client_ms)"
  stop_salvo

  start_salvo false
  base="$(pb_sink_count salvo-accept-sink)"; c0="$(cpu_ticks "$salvo_pid")"; t0="$(pb_now)"
  inject "$SALVO_PORT"; ti="$(pb_now)"; wait_sink "$base"; t1="$(pb_now)"
  c1="$(cpu_ticks "$salvo_pid")"
  dinj="$(rate "$t0" "$ti")"; de2e="$(rate "$t0" "$t1")"
  dcpu="$(pb_calc "($c1 - $c0) / $tick * 1000 / $N")"
  stop_salvo
  nosync=""
  if [ "${NOSYNC:-0}" = 1 ]; then
    start_salvo true false
    c0="$(cpu_ticks "$salvo_pid")"; t0="$(pb_now)"
    inject "$SALVO_PORT"; t1="$(pb_now)"; c1="$(cpu_ticks "$salvo_pid")"
    nosync="$(printf '\t%.0f\t%.3f' "$(rate "$t0" "$t1")" \
      "$(pb_calc "($c1 - $c0) / $tick * 1000 / $N")")"
    stop_salvo
  fi
  printf '%d\t%.0f\t%s\t%.0f\t%.3f\t%s\t%.0f\t%.0f\t%.3f%s\n' "$rep" "$ceiling" \
    "$ceiling_client" "$hold" "$hold_cpu" "$hold_client" "$dinj" "$de2e" "$dcpu" "$nosync"
done
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "${WITH_POSTFIX:-0}" = 1 ]; then
  pb_sink_stop salvo-accept-sink
  N="$N" S="$SESSIONS" SIZE="$SIZE" REPS="$REPS" MODE="$MODE" "$PB/run-postfix.sh"
fi
