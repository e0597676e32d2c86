#!/bin/sh
# Builds, and optionally runs, the libFuzzer targets of the I/O-free parsers
# that read hostile input (SMTP commands, replies and content; POP3; IMAP
# commands and MIME; the API's JSON, CSV and HTTP decoding). Each target
# checks the invariants of tests/fuzz/*_checks.h, the same the in-suite
# mutation tests check. The project builds with g++; these build with clang:
#   tests/fuzz/build.sh [OUT_DIR] [-- libFuzzer options, e.g. -max_total_time=60]
# With options, every target runs in turn on its seed corpus (FUZZERS="a b"
# picks some). JOBS (default 2) compiles in parallel, under nice.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-/tmp/salvo-fuzz}
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
CXX=${CXX:-clang++}
JOBS=${JOBS:-2}
FLAGS="-std=c++20 -O1 -g -I$ROOT"
mkdir -p "$OUT/obj" "$OUT/corpus"

SMTP="engine/smtp/server/command_parser.cc engine/smtp/server/address_parser.cc
  engine/smtp/server/server_reply.cc engine/smtp/server/content_decoder.cc
  engine/smtp/reply.cc engine/smtp/dot_stuffing.cc"
POP3="engine/pop3/command_parser.cc"
IMAP="engine/imap/command_parser.cc engine/imap/sequence_set.cc engine/imap/search_query.cc
  engine/imap/imap_string.cc engine/imap/mime_message.cc engine/imap/envelope.cc
  engine/imap/fetch_items.cc"
# json_body.cc also holds a coroutine (ReadJsonBody) that clang 14 cannot
# compile with -fsanitize=undefined ("Cannot represent a difference across
# sections"); the targets use the file with that one function cut out.
awk '/^Task<absl::StatusOr<nlohmann::json>> ReadJsonBody/ {skip = 1}
     !skip {print} skip && /^}$/ {skip = 0}' "$ROOT/api/http/json_body.cc" \
  > "$OUT/obj/json_body_parse.cc.new"
cmp -s "$OUT/obj/json_body_parse.cc.new" "$OUT/obj/json_body_parse.cc" ||
  mv "$OUT/obj/json_body_parse.cc.new" "$OUT/obj/json_body_parse.cc"
API="$OUT/obj/json_body_parse.cc api/http/api_error.cc api/http/http_response.cc api/http/request_parser.cc
  api/http/http_headers.cc api/handlers/csv_reader.cc"
LIBS="$(pkg-config --libs absl_statusor absl_strings absl_str_format absl_cord absl_time fmt spdlog)"

# Sources -> instrumented objects (only those out of date), JOBS at a time.
path() { case $1 in /*) echo "$1" ;; *) echo "$ROOT/$1" ;; esac; }
obj() { echo "$OUT/obj/$(basename "$(dirname "$1")")_$(basename "$1" .cc).o"; }
for src in $SMTP $POP3 $IMAP $API; do
  o=$(obj "$src")
  if [ ! -f "$o" ] || [ "$(path "$src")" -nt "$o" ]; then echo "$(path "$src") $o"; fi
done | xargs -r -n 2 -P "$JOBS" sh -c \
  "nice $CXX $FLAGS -fsanitize=fuzzer-no-link,address,undefined -c \"\$0\" -o \"\$1\" && echo \"compiled \$0\""

link() {  # target sources...
  target=$1
  shift
  objs=""
  for src in "$@"; do objs="$objs $(obj "$src")"; done
  nice $CXX $FLAGS -fsanitize=fuzzer,address,undefined -o "$OUT/$target" \
    "$ROOT/tests/fuzz/$target.cc" $objs $LIBS
  echo "built $OUT/$target"
}
link smtp_command_fuzzer $SMTP
link smtp_reply_fuzzer $SMTP
link smtp_content_fuzzer $SMTP
link pop3_command_fuzzer $POP3
link imap_command_fuzzer $IMAP
link imap_mime_fuzzer $IMAP
link api_json_fuzzer $API
link api_csv_fuzzer $API
link http_request_fuzzer $API

# Small seed corpora: valid inputs the mutations start from.
seed() {  # target name printf-format
  mkdir -p "$OUT/corpus/$1"
  printf "$3" > "$OUT/corpus/$1/$2"
}
seed smtp_command_fuzzer mail 'MAIL FROM:<a@example.com> SIZE=100 BODY=8BITMIME RET=HDRS ENVID=x+2B'
seed smtp_command_fuzzer rcpt 'RCPT TO:<b@[IPv6:2001:db8::1]> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;b@x'
seed smtp_command_fuzzer route 'MAIL FROM:<@a.test,@b.test:"q u"@c.test> SMTPUTF8 AUTH=<>'
seed smtp_command_fuzzer ehlo 'EHLO [192.0.2.1]'
seed smtp_command_fuzzer bdat 'BDAT 1000 LAST'
seed smtp_command_fuzzer auth 'AUTH PLAIN AGEAYg=='
seed smtp_reply_fuzzer ehlo '250-mx.example.com\n250-SIZE 1000\n250 2.0.0 ENHANCEDSTATUSCODES'
seed smtp_reply_fuzzer bounce '550-5.1.1 no such user\n550 5.1.1 bye'
seed smtp_reply_fuzzer content 'Subject: x\r\n\r\n.dot\nbare\r.\r\n'
seed smtp_content_fuzzer data '\001Subject: x\r\n\r\n..dot\r\nline\r\n.\r\nQUIT\r\n'
seed smtp_content_fuzzer bare '\022a\nb\rc\r\n.\n.\r\n'
seed pop3_command_fuzzer top 'TOP 3 10'
seed pop3_command_fuzzer apop 'APOP mrose c4c9334bac560ecc979e58001b3e22fb'
seed pop3_command_fuzzer pass 'PASS my secret'
seed imap_command_fuzzer login 'a1 LOGIN {7}\r\nbounces "se\\\\"cret"\r\na2 SELECT INBOX\r\n'
seed imap_command_fuzzer fetch 'a3 UID FETCH 1:*,7 (FLAGS BODY.PEEK[HEADER.FIELDS (FROM)]<0.10> BODY[1.MIME])\r\n'
seed imap_command_fuzzer search 'a4 SEARCH CHARSET UTF-8 OR (FROM x) NOT SEEN SINCE 1-Feb-1994 UID 2:*\r\n'
seed imap_command_fuzzer append 'a5 APPEND Hard (\\\\Seen) {5+}\r\nhello\r\n'
seed imap_mime_fuzzer report 'From: "M" <m@x.test>\r\nTo: a@b.test, "C, D" <c@d.test>\r\nContent-Type: multipart/report; boundary=b\r\n\r\n--b\r\n\r\ntext\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\nbody\r\n--b--\r\n'
seed api_json_fuzzer message '{"from": "S <s@example.com>", "to": [{"email": "a@b.test"}], "rate": 5, "ratio": 0.5, "settings": {"max": 3}, "name": "x"}'
seed api_csv_fuzzer recipients 'email,name\r\na@b.test,"Ann ""A"""\r\n"c@d.test","x\r\ny"\r\n'
seed http_request_fuzzer post 'POST /v1/messages HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}GET / HTTP/1.1\r\nHost: h\r\n\r\n'
seed http_request_fuzzer chunked 'POST /v1/x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'

if [ $# -gt 0 ]; then
  for t in ${FUZZERS:-smtp_command_fuzzer smtp_reply_fuzzer smtp_content_fuzzer pop3_command_fuzzer
      imap_command_fuzzer imap_mime_fuzzer api_json_fuzzer api_csv_fuzzer http_request_fuzzer}; do
    mkdir -p "$OUT/work/$t" "$OUT/crashes/$t"
    echo "== $t"
    nice "$OUT/$t" -artifact_prefix="$OUT/crashes/$t/" "$OUT/work/$t" "$OUT/corpus/$t" "$@"
  done
fi
