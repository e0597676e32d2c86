#!/bin/sh
# Builds and optionally runs the libFuzzer target for dns/'s answer handling.
#   tests/dns/fuzz/build.sh [OUT_DIR] [-- libFuzzer options, e.g. -max_total_time=60]
# Seeds come from a few valid answers written by the unit tests' builder.
set -eu
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
OUT=${1:-/tmp/salvo-dns-fuzz}
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
mkdir -p "$OUT/corpus"
CXX=${CXX:-clang++}
FLAGS="-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -I$ROOT"
LIBS="$(pkg-config --libs absl_statusor absl_strings absl_str_format fmt libidn2)"
$CXX $FLAGS -o "$OUT/dns_answer_fuzzer" \
  "$ROOT/tests/dns/fuzz/answer_fuzzer.cc" "$ROOT/dns/message.cc" "$ROOT/dns/rrset.cc" \
  "$ROOT/dns/ip_address.cc" "$ROOT/dns/mx_set.cc" "$ROOT/dns/domain_name.cc" $LIBS
# Seed corpus: a real dnsmasq MX answer (compressed names, glue).
printf '%s' "cd16858000010003000000030161047465737400000f0001c00c000f000100000007000e0014036d783301610474657374\
00c00c000f000100000007000e000a036d78320161047465737400c00c000f000100000007000e000a036d7831016104746573\
7400c040000100010000000700047f000003c040001c000100000007001000000000000000000000000000000001c05a000100\
010000000700047f000002" | xxd -r -p > "$OUT/corpus/dnsmasq_mx"
echo "built $OUT/dns_answer_fuzzer"
if [ $# -gt 0 ]; then
  "$OUT/dns_answer_fuzzer" "$OUT/corpus" "$@"
fi
