// libFuzzer target: arbitrary bytes as one SMTP command line through the
// server's parsers (SplitCommand, ParseMail/Rcpt/Bdat/Auth/Helo), with the
// invariants of smtp_checks.h (5xx errors that survive the wire, successes
// that round-trip and stay in bounds). Built by tests/fuzz/build.sh.
#include "tests/fuzz/fuzz_main.h"
#include "tests/fuzz/smtp_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace salvo::fuzz;
  std::string_view line = AsText(data, size);
  Require(CheckCommandLine(line, 10'000'000));
  Require(CheckCommandLine(line, 0));
  return 0;
}
