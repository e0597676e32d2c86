// libFuzzer target: arbitrary bytes as an API request body through
// ParseJson and JsonObjectReader; invariants of api_checks.h (errors are
// 400 malformed_json, never an exception; values round-trip through
// dump(); typed fields keep their bounds). Built by tests/fuzz/build.sh.
#include "tests/fuzz/api_checks.h"
#include "tests/fuzz/fuzz_main.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  salvo::fuzz::Require(salvo::fuzz::CheckJsonSyntax(salvo::fuzz::AsText(data, size)));
  return 0;
}
