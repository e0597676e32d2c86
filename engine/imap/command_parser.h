// The IMAP command reader and tokenizer (RFC 3501 §9 grammar, RFC 7888
// LITERAL+): I/O-free and incremental. The session feeds it whatever bytes
// arrived; it says when a command is complete, when a synchronizing literal
// was announced (the session then sends "+ go ahead"), or what was wrong.
//
//   CommandParser p(limits);
//   ParseStep s = p.Feed(bytes);      // s.consumed bytes were used
//   switch (s.event) { kNeedMore, kContinue, kCommand (p.Take()), kError }
//
// Feed stops right after a complete command, so pipelined input stays with
// the caller (IDLE's DONE and SASL responses are read as plain lines).
//
// Tokens: atoms (an atom may carry a bracketed section with spaces and
// parentheses, "BODY.PEEK[HEADER.FIELDS (FROM)]<0.10>", kept as one atom for
// the FETCH parser), quoted strings, literals ({n} and {n+}), NIL (an atom),
// and parenthesised lists.
//
// Bounds: each line at most max_line octets, each literal at most
// max_literal (max_append for the last literal of an APPEND), the whole
// command max_command octets outside APPEND data, lists nested at most
// max_nesting deep, at most max_arguments tokens. Over-long lines are
// discarded up to their LF before kError.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/imap/imap_options.h"

namespace salvo::imap {

struct ImapArg {
  enum Kind : uint8_t { kAtom, kString, kList } kind = kAtom;
  bool literal = false;  // kString from a literal
  std::string text;      // kAtom / kString
  std::vector<ImapArg> list;

  bool IsAtom(std::string_view upper) const;  // case-insensitive
  bool IsNil() const { return IsAtom("NIL"); }
  // An astring (atom or string), for names and passwords.
  bool IsAString() const { return kind != kList; }
};

struct ImapCommand {
  std::string tag;
  std::string name;  // upper case; "UID FETCH" for UID commands
  std::vector<ImapArg> args;
};

struct ParseError {
  std::string tag;       // empty when it could not be read ("*" is used)
  std::string message;   // for "BAD <message>"
  bool fatal = false;    // the stream cannot be resynchronised: BYE and close
  bool too_big = false;  // [TOOBIG] response code (RFC 4469)
};

enum class ParseEvent { kNeedMore, kContinue, kCommand, kError };

struct ParseStep {
  size_t consumed = 0;
  ParseEvent event = ParseEvent::kNeedMore;
};

class CommandParser {
 public:
  explicit CommandParser(const ImapLimits& limits) : limits_(limits) {}

  ParseStep Feed(std::string_view bytes);
  ImapCommand Take() { return std::move(command_); }
  const ParseError& error() const { return error_; }
  // True between commands (nothing of the next one received yet).
  bool idle() const { return segments_.empty() && line_.empty() && literal_left_ == 0; }
  void Reset();

 private:
  ParseStep FeedLine(std::string_view bytes);
  ParseStep EndOfLine(size_t consumed);
  ParseStep Fail(size_t consumed, std::string message, bool fatal = false, bool too_big = false);
  bool IsAppend() const;

  const ImapLimits& limits_;
  std::vector<std::string> segments_;  // line, literal, line, literal, ..., line
  std::string line_;
  uint64_t literal_left_ = 0;
  bool in_literal_ = false;
  bool discarding_ = false;  // an over-long line: drop up to LF
  size_t command_bytes_ = 0;
  ImapCommand command_;
  ParseError error_;
};

// Tokenizes the segments of one command (exposed for tests). Sets
// `error` and returns nullopt on a syntax error.
std::optional<ImapCommand> Tokenize(const std::vector<std::string>& segments,
                                    const ImapLimits& limits, std::string* error);

// A command's tag from its first line ("*" if none can be found).
std::string TagOf(std::string_view line);

}  // namespace salvo::imap
