// Server-side rendering of SMTP replies (RFC 5321 §4.2). The server reuses
// the client's SmtpReply value (engine/smtp/reply.h): a code, an optional
// RFC 3463 enhanced status and one or more lines of text.
//
// Invariants: every rendered line is "NNN-text" / "NNN text" ending in CRLF;
// the enhanced status, when set, is repeated on every line (RFC 2034 §4);
// text never contains CR or LF (callers' text is sanitised here, so a client
// address echoed in a reply cannot inject a reply line).
#pragma once

#include <string>
#include <string_view>

#include "engine/smtp/reply.h"

namespace salvo::smtp {

// A one-line reply. `enhanced` may be empty (greeting, EHLO, 334 challenges).
SmtpReply MakeReply(int code, std::string_view enhanced, std::string_view text);

// Appends the wire form of `reply` to `out`.
void AppendWireReply(const SmtpReply& reply, std::string& out);

// `text` with CR, LF, NUL and other control bytes replaced by '?', cut to
// `max` bytes: for echoing client-supplied strings in replies and logs.
std::string Printable(std::string_view text, size_t max = 200);

}  // namespace salvo::smtp
