// Writing IMAP strings in responses (RFC 3501 §4.3, §9): a quoted string
// when the text allows it, a literal otherwise; NIL for an absent nstring.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace salvo::imap {

// Appends `s` as a quoted string, or as a literal "{n}\r\n..." when it holds
// CR, LF, NUL or 8-bit octets or is long.
void AppendString(std::string& out, std::string_view s);
// NIL when absent (or, with empty_is_nil, empty).
void AppendNString(std::string& out, std::optional<std::string_view> s, bool empty_is_nil = false);
// An astring: the bare atom when it is one ("INBOX"), else as AppendString.
void AppendAString(std::string& out, std::string_view s);
// Always a literal (message content).
void AppendLiteral(std::string& out, std::string_view s);

}  // namespace salvo::imap
