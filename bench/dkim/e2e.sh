#!/usr/bin/env bash
# End-to-end delivery throughput with DKIM signing off, rsa2048, ed25519 and
# dual (both), side by side in one session against the same smtp-sink, each
# mode REPS times interleaved (so that load from other processes spreads over
# all modes alike). Run as root from the repository root after building:
#   ninja -C build/dkim dkim_e2e_bench dkim_micro
#   bench/dkim/e2e.sh build/dkim
# Env: N (20000), SIZE (4096), SHARDS (2), THREADS (2 signing threads),
# DOMAINS (200), REPS (2), MODES ("none rsa ed25519 dual"), CAMPAIGN=1 for one
# campaign (static body: one body hash) instead of single messages,
# BACKLOG_WAIT_US ([dkim] backlog_wait in microseconds; 0: off).
# Prints, per signed run, issue 9's ratio against the signing ceiling the
# bench measures on the run's own messages; when "none" runs first in MODES,
# also the share of that round's unsigned rate kept, and the rate over the
# bound of unsigned delivery's CPU plus one signature per message.
set -euo pipefail
BUILD="${1:-build/dkim}"
N="${N:-20000}"; SIZE="${SIZE:-4096}"; SHARDS="${SHARDS:-2}"; THREADS="${THREADS:-2}"
DOMAINS="${DOMAINS:-200}"; REPS="${REPS:-2}"; MODES="${MODES:-none rsa ed25519 dual}"
PORT="${PORT:-2527}"
PB=/work/shared/peer-bench
. "$PB/lib.sh"
extra=()
[ "${CAMPAIGN:-0}" = 1 ] && extra+=(--campaign)
[ -n "${BACKLOG_WAIT_US:-}" ] && extra+=(--backlog-wait-us="$BACKLOG_WAIT_US")

echo "== $(date -u +%FT%TZ) load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
pb_sink_start dkim-sink "$PORT"
trap 'pb_sink_stop dkim-sink' EXIT
for rep in $(seq 1 "$REPS"); do
  for mode in $MODES; do
    sink0="$(pb_cg_usage_s dkim-sink)"
    out="$("$BUILD/bench/dkim/dkim_e2e_bench" --port="$PORT" --dkim="$mode" --messages="$N" \
      --size="$SIZE" --shards="$SHARDS" --threads="$THREADS" --domains="$DOMAINS" "${extra[@]}")"
    echo "$out"
    # The sink's CPU is taken out of the machine's cores when judging how
    # close signed throughput comes to the signing ceiling (docs/benchmarks/dkim.md).
    sink_ms="$(pb_calc "($(pb_cg_usage_s dkim-sink) - $sink0) * 1000 / $N")"
    echo "smtp-sink CPU: $sink_ms ms/msg ($mode), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    # Issue 9's ratio: the rate over what signing alone would make on the
    # cores the sink leaves, at the ceiling the bench measured right after the
    # run on the same messages (one thread, nothing else running).
    rate="$(sed -n 's/.* s, \([0-9]*\) msgs\/s,.*/\1/p' <<< "$out")"
    ceiling="$(sed -n 's/.*signing ceiling for these messages.*: \([0-9]*\) msgs\/s/\1/p' <<< "$out")"
    cpu_ms="$(sed -n 's/.*CPU \([0-9.]*\) ms\/msg.*/\1/p' <<< "$out")"
    if [ "$mode" = none ]; then
      none_rate="$rate"; none_cpu_ms="$cpu_ms"
    fi
    if [ -n "$rate" ] && [ -n "$ceiling" ]; then
      cores="$(nproc)"
      free_cores="$(pb_calc "$cores - $sink_ms * $rate / 1000")"
      echo "issue 9 ratio ($mode): $rate / ($free_cores sink-free cores x $ceiling)" \
        "= $(pb_calc "100 * $rate / ($free_cores * $ceiling)")%"
      # Two other readings, when this round ran unsigned first: the share of
      # the unsigned rate kept, and the rate over what the free cores allow
      # when each message costs unsigned delivery's CPU plus one signature.
      if [ -n "${none_rate:-}" ] && [ -n "${none_cpu_ms:-}" ]; then
        bound="$(pb_calc "$free_cores * 1000 / ($none_cpu_ms + 1000 / $ceiling)")"
        echo "  against unsigned, same round: $rate / $none_rate" \
          "= $(pb_calc "100 * $rate / $none_rate")%;" \
          "against delivery + signing CPU ($none_cpu_ms + $(pb_calc "1000 / $ceiling") ms/msg" \
          "on $free_cores cores = $bound msgs/s): $(pb_calc "100 * $rate / $bound")%"
      fi
    fi
  done
done
echo "smtp-sink counted $(pb_sink_count dkim-sink) messages"
echo "== dkim_micro (10 KB message, one thread) for comparison with earlier runs:"
"$BUILD/bench/dkim/dkim_micro" --benchmark_filter='Sign' --benchmark_min_time=0.3 2>/dev/null |
  grep -E '^BM_' || true
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
