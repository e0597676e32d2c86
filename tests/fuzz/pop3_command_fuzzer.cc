// libFuzzer target: arbitrary bytes as one POP3 command line through
// ParseCommand, ParseMessageNumber, ParseLineCount and Printable, with the
// invariants of pop3_checks.h (InvalidArgument errors, bounded commands
// without control bytes that round-trip). Built by tests/fuzz/build.sh.
#include "tests/fuzz/fuzz_main.h"
#include "tests/fuzz/pop3_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  salvo::fuzz::Require(salvo::fuzz::CheckPop3Line(salvo::fuzz::AsText(data, size)));
  return 0;
}
