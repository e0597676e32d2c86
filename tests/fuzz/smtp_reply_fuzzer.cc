// libFuzzer target: arbitrary bytes as a remote MTA's replies (lines split
// at LF) through the client's ReplyParser, and as message content through
// the client's dot-stuffing and the server's DATA decoder; invariants of
// smtp_checks.h. Built by tests/fuzz/build.sh.
#include "tests/fuzz/fuzz_main.h"
#include "tests/fuzz/smtp_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace salvo::fuzz;
  std::string_view text = AsText(data, size);
  std::vector<std::string> lines;
  for (size_t start = 0; start <= text.size();) {
    size_t lf = text.find('\n', start);
    if (lf == std::string_view::npos) lf = text.size();
    lines.emplace_back(text.substr(start, lf - start));
    start = lf + 1;
  }
  Require(CheckReplyLines(lines));
  Require(CheckDotStuffingRoundTrip(text));
  return 0;
}
