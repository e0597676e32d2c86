// libFuzzer target: arbitrary bytes as message content arriving after DATA
// or BDAT, through the server's ContentDecoder whole and in pieces; the
// first byte picks the limits and the bare-newline policy. Invariants of
// smtp_checks.h (split invariance, DATA ends only at CRLF.CRLF, accepted
// content has CRLF line ends within max_line and max_size). Built by
// tests/fuzz/build.sh.
#include "tests/fuzz/fuzz_main.h"
#include "tests/fuzz/smtp_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace salvo::fuzz;
  if (size == 0) return 0;
  uint8_t knobs = data[0];
  std::string_view wire = AsText(data + 1, size - 1);
  salvo::smtp::ContentLimits limits;
  limits.max_size = (knobs & 3) == 0 ? 0 : 16u << (knobs & 3);
  limits.max_line = (knobs & 12) == 0 ? 0 : 8u << ((knobs >> 2) & 3);
  limits.bare_newline = (knobs & 16) ? salvo::smtp::BareNewlinePolicy::kNormalize
                                     : salvo::smtp::BareNewlinePolicy::kReject;
  std::vector<size_t> cuts = SplitsOf(wire);
  Require(CheckContent(wire, cuts, salvo::smtp::ContentDecoder::Mode::kDotTerminated, limits));
  Require(CheckContent(wire, cuts, salvo::smtp::ContentDecoder::Mode::kCounted, limits));
  return 0;
}
