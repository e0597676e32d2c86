// The I/O-free POP3 command parser: one command line (without its line end)
// in, a verb and its arguments out, or why the line is not a command.
//
//   ParseCommand("top 3 10")      -> {kTop, args {"3", "10"}}
//   ParseCommand("PASS my secret") -> {kPass, rest "my secret"}
//
// RFC 1939 §3: keywords are case-insensitive, arguments are separated by
// spaces and are at most 40 octets each. Exceptions: PASS takes the rest of
// the line as the password (it may hold spaces, §7), and an AUTH initial
// response may be longer (RFC 5034 §4); the line itself is bounded by the
// reader (RFC 2449 §4: 255 octets with CRLF). Lines with NUL, CR or other
// control characters (TAB aside) are refused: nothing a client sends can
// reach a log, a reply or the store unfiltered.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace salvo::pop3 {

enum class Verb {
  kUnknown,
  kUser,
  kPass,
  kApop,
  kAuth,
  kCapa,
  kStls,
  kStat,
  kList,
  kUidl,
  kTop,
  kRetr,
  kDele,
  kNoop,
  kRset,
  kQuit,
};

inline constexpr size_t kMaxArgument = 40;  // RFC 1939 §3
inline constexpr size_t kMaxArguments = 2;  // TOP msg n, APOP name digest, AUTH mech ir

std::string_view VerbName(Verb verb);

struct Command {
  Verb verb = Verb::kUnknown;
  std::string keyword;            // upper case, as sent (for unknown verbs: at most 8 octets)
  std::string rest;               // the line after the keyword and one space
  std::vector<std::string> args;  // `rest` split on runs of spaces (not for PASS)
};

// InvalidArgument naming the problem (empty line, forbidden bytes, an
// argument over 40 octets, too many arguments).
absl::StatusOr<Command> ParseCommand(std::string_view line);

// RFC 1939 msg: 1*DIGIT, 1 .. 2^32-1. nullopt for anything else.
std::optional<uint32_t> ParseMessageNumber(std::string_view s);
// TOP's line count: 1*DIGIT, 0 or more; values over 2^32-1 are clamped.
std::optional<uint32_t> ParseLineCount(std::string_view s);

// `s` with control bytes and non-ASCII replaced by '?', at most `max`
// octets (for logs).
std::string Printable(std::string_view s, size_t max);

}  // namespace salvo::pop3
