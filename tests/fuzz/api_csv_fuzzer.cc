// libFuzzer target: arbitrary bytes as a CSV recipient upload through
// CsvReader whole and in pieces; invariants of api_checks.h (split
// invariance, bounded rows, quoting round trip). Built by
// tests/fuzz/build.sh.
#include "tests/fuzz/api_checks.h"
#include "tests/fuzz/fuzz_main.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace salvo::fuzz;
  std::string_view text = AsText(data, size);
  salvo::api::CsvLimits limits;
  limits.max_field_bytes = 64;
  limits.max_row_bytes = 256;
  limits.max_columns = 8;
  Require(CheckCsv(text, SplitsOf(text), limits));
  return 0;
}
