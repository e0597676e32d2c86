// SmtpReply and ReplyParser: RFC 5321 §4.2 replies, as the client reads them.
//
// A reply is one or more lines "NNN-text" ... "NNN text" with one code. The
// parser is I/O-free: feed it lines (without CRLF) and it says when a reply is
// complete. It is bounded (lines per reply, bytes per reply) and strict about
// what a server may send: a malformed line is an error, never a guess.
// Enhanced status codes (RFC 3463, "2.1.5") are split off the text when the
// server advertised ENHANCEDSTATUSCODES, or when the text plainly starts with
// one whose class matches the reply code.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace salvo::smtp {

struct SmtpReply {
  int code = 0;                    // 200..599
  std::string enhanced;            // "5.1.1", or empty
  std::vector<std::string> lines;  // text of each line, without code and enhanced status
  bool local = false;              // made up by Salvo (e.g. a size refusal), not sent by the server

  bool positive() const { return code >= 200 && code < 400; }
  bool transient() const { return code >= 400 && code < 500; }
  bool permanent() const { return code >= 500; }
  // All lines joined with a space: for logs, events and DSN diagnostics.
  std::string Text() const;
  // "250 2.1.5 Ok" style single-line rendering.
  std::string ToString() const;
};

class ReplyParser {
 public:
  static constexpr size_t kMaxLines = 200;
  static constexpr size_t kMaxBytes = 64 * 1024;

  // Feeds one line. Returns true when the reply is complete (then take it
  // with Take()), false when more lines are needed, or an error for a line
  // that is not an SMTP reply line or exceeds the bounds.
  absl::StatusOr<bool> Feed(std::string_view line);
  SmtpReply Take();
  void Reset();

 private:
  SmtpReply reply_;
  size_t bytes_ = 0;
  bool started_ = false;
};

// Splits "5.1.1 text" into ("5.1.1", "text") when `text` starts with an
// enhanced status code of class `code / 100`; otherwise returns ("", text).
std::pair<std::string_view, std::string_view> SplitEnhancedStatus(int code, std::string_view text);

}  // namespace salvo::smtp
