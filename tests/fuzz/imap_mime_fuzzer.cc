// libFuzzer target: arbitrary bytes as a stored message through
// MimeMessage (parts, sections) and the ENVELOPE / BODYSTRUCTURE writers;
// invariants of imap_checks.h (parts inside the content and bounded, valid
// sections served, well-formed response syntax). Built by
// tests/fuzz/build.sh.
#include "tests/fuzz/fuzz_main.h"
#include "tests/fuzz/imap_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  salvo::fuzz::Require(salvo::fuzz::CheckMime(salvo::fuzz::AsText(data, size)));
  return 0;
}
