#!/usr/bin/env bash
# End-to-end delivery benchmark: Salvo's delivery engine, the
# smtp-source -> smtp-sink ceiling and Postfix, same machine, same run. Run as
# root from the repository root after building:
#   cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release
#   ninja -C build-release delivery_bench
#   bench/delivery/run.sh build-release
# Env: N (100000), DOMAINS (1000), MX_HOSTS (20), SIZE (1024), SHARDS (2),
# CONNS (20 per site), PF_N (20000: messages through Postfix and the ceiling),
# SKIP_POSTFIX=1, SKIP_CEILING=1.
set -euo pipefail
BUILD="${1:-build-release}"
N="${N:-100000}"; DOMAINS="${DOMAINS:-1000}"; MX_HOSTS="${MX_HOSTS:-20}"; SIZE="${SIZE:-1024}"
SHARDS="${SHARDS:-2}"; CONNS="${CONNS:-20}"; PF_N="${PF_N:-20000}"
PORT=2526
PB=/work/shared/peer-bench
. "$PB/lib.sh"

echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== salvo: $N x $SIZE B to $DOMAINS domains ($MX_HOSTS MX hosts) via smtp-sink 127.0.0.1:$PORT"
pb_sink_start salvo-sink "$PORT"
trap 'pb_sink_stop salvo-sink' EXIT
before="$(pb_sink_count salvo-sink)"
"$BUILD/bench/delivery/delivery_bench" --port="$PORT" --messages="$N" --domains="$DOMAINS" \
  --mx-hosts="$MX_HOSTS" --size="$SIZE" --shards="$SHARDS" --connections="$CONNS"
sleep 0.5
echo "smtp-sink counted $(( $(pb_sink_count salvo-sink) - before )) messages"
pb_sink_stop salvo-sink
trap - EXIT

if [ "${SKIP_CEILING:-0}" != 1 ] || [ "${SKIP_POSTFIX:-0}" != 1 ]; then
  "$PB/setup.sh" >/dev/null 2>&1
fi
if [ "${SKIP_CEILING:-0}" != 1 ]; then
  echo "== ceiling: smtp-source -> smtp-sink, $PF_N x $SIZE B, 20 sessions, many per connection"
  N="$PF_N" SIZES="$SIZE" MODES=reuse REPS=1 "$PB/run-ceiling.sh" 2>&1 | tail -3
fi
if [ "${SKIP_POSTFIX:-0}" != 1 ]; then
  echo "== postfix: $PF_N x $SIZE B through Postfix (peer-bench) into smtp-sink"
  N="$PF_N" SIZE="$SIZE" REPS=1 WARMUP=200 "$PB/run-postfix.sh" 2>&1 | tail -8
fi
if [ "${SKIP_CEILING:-0}" != 1 ] || [ "${SKIP_POSTFIX:-0}" != 1 ]; then
  "$PB/teardown.sh" >/dev/null 2>&1 || true
fi
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
