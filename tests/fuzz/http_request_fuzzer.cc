// libFuzzer target: arbitrary bytes as what an HTTP client sends to the
// API, through HttpRequestParser whole and as they might arrive; invariants
// of api_checks.h (same heads, bodies and error; bodies within the limit
// and of the declared length). Built by tests/fuzz/build.sh.
#include "tests/fuzz/api_checks.h"
#include "tests/fuzz/fuzz_main.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = salvo::fuzz::AsText(data, size);
  salvo::fuzz::Require(salvo::fuzz::CheckHttp(text, salvo::fuzz::SplitsOf(text)));
  return 0;
}
