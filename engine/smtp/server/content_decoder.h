// ContentDecoder: the I/O-free receiver of message content — DATA's
// dot-terminated stream (RFC 5321 §4.5.2) or BDAT's counted chunks
// (RFC 3030) — fed bytes as they arrive, in pieces of any size.
//
// What it guarantees (the SMTP smuggling defence, see docs in
// smtp_session.h):
//  - DATA ends only at <CRLF>.<CRLF>. "<LF>.<LF>", "<CR>.<CR>",
//    "<LF>.<CRLF>", "<CR>.<CRLF>" and friends never end it.
//  - A bare LF or bare CR (one not part of a CRLF pair) is, by policy,
//    either a reason to refuse the whole message (kReject, the default:
//    550 5.6.0 at the end of the content) or rewritten to CRLF
//    (kNormalize). A line after a normalised bare line ending is never
//    treated as a line start: it is neither dot-unstuffed nor able to end
//    DATA, so normalisation cannot create an end-of-data either.
//  - Dot-unstuffing: a '.' that starts a line (after a real CRLF) is
//    removed (DATA only).
//  - Memory is bounded: content beyond `max_size` is counted but not kept
//    (the output is dropped and the message refused with 552 5.3.4); a
//    message with an error keeps nothing further either.
//  - Lines longer than `max_line` octets (without CRLF; RFC 5322 §2.1.1:
//    998) refuse the message (550 5.6.0); 0 disables the check.
// The output holds the content with CRLF line endings, without the final
// "." line; DATA content always ends with CRLF.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/smtp/reply.h"

namespace salvo::smtp {

enum class BareNewlinePolicy { kReject, kNormalize };

struct ContentLimits {
  uint64_t max_size = 50ull << 20;  // octets of content (0: unlimited)
  size_t max_line = 998;            // octets per line without CRLF (0: unlimited)
  BareNewlinePolicy bare_newline = BareNewlinePolicy::kReject;
};

class ContentDecoder {
 public:
  enum class Mode { kDotTerminated, kCounted };

  // Appends the decoded content to `*out` (not owned; must outlive this).
  ContentDecoder(Mode mode, const ContentLimits& limits, std::string* out);

  // Consumes a prefix of `in` and returns its length: all of it, except
  // that in DATA mode it stops right after the terminating ".CRLF" (what
  // follows is the next command). Once done() it consumes nothing.
  size_t Feed(std::string_view in);
  // BDAT: the last chunk has been fed (a dangling CR is a bare CR).
  void Finish();

  bool done() const { return done_; }
  uint64_t size() const { return size_; }  // content octets seen, kept or not
  bool oversize() const { return oversize_; }
  bool bare_lf() const { return bare_lf_; }
  bool bare_cr() const { return bare_cr_; }
  bool long_line() const { return long_line_; }
  // The reply refusing the message, or nullopt when it may be accepted.
  std::optional<SmtpReply> Verdict() const;

 private:
  enum class State { kLineStart, kText, kCr, kDot, kDotCr };

  void Emit(std::string_view bytes);
  void EndLine();  // a CRLF (real or normalised) was emitted
  void BareNewline(bool lf);
  bool rejecting() const { return oversize_ || bare_lf_ || bare_cr_ || long_line_; }

  Mode mode_;
  ContentLimits limits_;
  std::string* out_;
  State state_ = State::kLineStart;
  uint64_t size_ = 0;
  size_t line_ = 0;  // octets in the current line so far
  bool done_ = false;
  bool oversize_ = false;
  bool bare_lf_ = false;
  bool bare_cr_ = false;
  bool long_line_ = false;
};

}  // namespace salvo::smtp
