// The invariants of the POP3 command parser (engine/pop3/command_parser.h),
// shared by the in-suite mutation test (tests/pop3/command_fuzz_test.cc) and
// the libFuzzer target (tests/fuzz/pop3_command_fuzzer.cc). "" when every
// invariant holds, else what broke:
//  - an error is InvalidArgument; a line with control bytes is an error;
//  - a command has an upper-case keyword of at most 8 octets, at most
//    kMaxArguments arguments of at most kMaxArgument octets (an AUTH initial
//    response aside), no control bytes anywhere, and it round-trips:
//    "KEYWORD arg1 arg2" (or "PASS rest") parses to the same command;
//  - message numbers are 1..2^32-1 and re-parse from their decimal form;
//    line counts likewise from 0; Printable output is bounded and clean.
#pragma once

#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "engine/pop3/command_parser.h"
#include "fmt/format.h"

namespace salvo::fuzz {

inline bool HasControlBytes(std::string_view s) {
  for (unsigned char c : s) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return true;
  }
  return false;
}

inline std::string CheckPop3Numbers(std::string_view s) {
  if (auto n = pop3::ParseMessageNumber(s)) {
    if (*n == 0 || s.find_first_not_of("0123456789") != std::string_view::npos) {
      return "bad message number accepted";
    }
    if (pop3::ParseMessageNumber(std::to_string(*n)) != n) return "message number round trip";
  }
  if (auto n = pop3::ParseLineCount(s)) {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string_view::npos) {
      return "bad line count accepted";
    }
    if (pop3::ParseLineCount(std::to_string(*n)) != n) return "line count round trip";
  }
  std::string p = pop3::Printable(s, 40);
  if (p.size() > 43 || HasControlBytes(p)) return "Printable unbounded or unclean";
  return "";
}

inline std::string CheckPop3Line(std::string_view line) {
  absl::StatusOr<pop3::Command> c = pop3::ParseCommand(line);
  if (!c.ok()) {
    if (!absl::IsInvalidArgument(c.status())) return "error is not InvalidArgument";
    return CheckPop3Numbers(line);
  }
  if (HasControlBytes(line)) return "control bytes accepted";
  if (c->keyword.empty() && c->verb != pop3::Verb::kUnknown) return "known verb without keyword";
  if (c->keyword.size() > 8 || c->keyword != absl::AsciiStrToUpper(c->keyword)) {
    return "keyword not bounded upper case: " + c->keyword;
  }
  if (c->args.size() > pop3::kMaxArguments) return "too many arguments accepted";
  for (size_t i = 0; i < c->args.size(); ++i) {
    bool initial_response = c->verb == pop3::Verb::kAuth && i == 1;
    if (c->args[i].empty() || (c->args[i].size() > pop3::kMaxArgument && !initial_response)) {
      return "argument out of bounds";
    }
    if (c->args[i].find_first_of(" \t") != std::string::npos) return "argument with a space";
    if (std::string e = CheckPop3Numbers(c->args[i]); !e.empty()) return e;
  }
  if (c->verb == pop3::Verb::kUnknown) return "";
  if (pop3::VerbName(c->verb) != c->keyword) return "verb and keyword disagree";
  std::string again = c->keyword;
  if (c->verb == pop3::Verb::kPass) {
    again += " " + c->rest;
  } else {
    for (const std::string& a : c->args) again += " " + a;
  }
  absl::StatusOr<pop3::Command> back = pop3::ParseCommand(again);
  if (!back.ok() || back->verb != c->verb || back->args != c->args ||
      (c->verb == pop3::Verb::kPass && back->rest != c->rest)) {
    return fmt::format("command does not round-trip via '{}'", again);
  }
  return "";
}

}  // namespace salvo::fuzz
