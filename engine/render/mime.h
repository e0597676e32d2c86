// MIME encoders used when rendering messages: quoted-printable bodies
// (RFC 2045 §6.7), base64 attachments (76-character lines), RFC 2047
// encoded-words for non-ASCII header text, and header sanitising (no CR/LF
// from a recipient's variables can ever start a new header).
#pragma once

#include <string>
#include <string_view>

namespace salvo::render {

// True if the text can go as 7bit: ASCII only, lines <= 998 octets.
bool Is7BitSafe(std::string_view text);
// Appends `text` quoted-printable encoded with CRLF line ends.
void AppendQuotedPrintable(std::string_view text, std::string& out);
// Appends `bytes` base64 encoded in lines of 76 characters.
void AppendBase64Lines(std::string_view bytes, std::string& out);
// Appends a header value: CR/LF/NUL become spaces; non-ASCII text becomes
// RFC 2047 B-encoded UTF-8 words; long values are folded.
void AppendHeaderValue(std::string_view value, size_t name_len, std::string& out);
// Appends "text" with every line ending made CRLF.
void AppendCrlf(std::string_view text, std::string& out);

}  // namespace salvo::render
