// libFuzzer target: arbitrary bytes as what an IMAP client sends, through
// the command reader whole and in pieces, the tokenizer, sequence sets,
// SEARCH and FETCH arguments, and imap_string's writers; invariants of
// imap_checks.h (split invariance, bounded commands that round-trip,
// consistent sequence sets, FETCH sections MimeMessage can serve). Built by
// tests/fuzz/build.sh.
#include "tests/fuzz/fuzz_main.h"
#include "tests/fuzz/imap_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace salvo::fuzz;
  std::string_view text = AsText(data, size);
  salvo::imap::ImapLimits limits;
  limits.max_line = 512;
  limits.max_literal = 256;
  limits.max_append = 1024;
  limits.max_command = 4096;
  limits.max_nesting = 8;
  limits.max_arguments = 100;
  Require(CheckImapInput(text, SplitsOf(text), limits));
  Require(CheckImapString(text));
  if (size <= 64) Require(CheckSequenceSet(text));
  return 0;
}
