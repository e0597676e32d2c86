// The body of a POP3 multi-line response (RFC 1939 §3): CRLF line ends, a
// '.' doubled at the start of every line, ".CRLF" at the end — produced
// incrementally, so RETR can send a large message piece by piece with a
// bounded buffer, and a piece boundary may fall anywhere (even between the
// CR and LF of one line end).
//
//   MultilineEncoder enc;
//   enc.Encode(piece1, out); enc.Encode(piece2, out); ... enc.Finish(out);
//
// Line ends are normalised: a bare LF or a bare CR becomes CRLF, so a
// client never sees a lone CR or LF whatever the stored content holds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace salvo::pop3 {

class MultilineEncoder {
 public:
  // Appends the encoded form of the next piece of content to `out`.
  void Encode(std::string_view piece, std::string& out);
  // Appends the end: a CRLF when the content did not end with a line end,
  // then ".CRLF".
  void Finish(std::string& out);

 private:
  bool line_start_ = true;  // the next byte begins a line
  bool after_cr_ = false;   // the last byte was a CR (already written as CRLF)
};

// What TOP msg n sends (RFC 1939 §7): the header section, the blank line
// after it, and the first `body_lines` lines of the body. Content without a
// blank line is all header and is returned whole.
std::string_view TopOfMessage(std::string_view content, uint32_t body_lines);

}  // namespace salvo::pop3
