// I/O-free parsing of the envelope paths in MAIL FROM and RCPT TO
// (RFC 5321 §4.1.2, with RFC 6531 SMTPUTF8 extensions).
//
//   "<user@example.com>"   -> address "user@example.com"
//   "<>"                   -> the null reverse-path (MAIL only)
//   "<@a,@b:user@c.test>"  -> source route accepted and dropped (§4.1.1.3)
//   "<Postmaster>"         -> "Postmaster" (RCPT only, §4.5.1)
//
// What is checked: angle brackets, a Dot-string or Quoted-string local part,
// a domain of LDH labels or an address literal ([1.2.3.4], [IPv6:...]),
// length limits (local part 64, domain 255, path 256 octets, §4.5.3.1).
// Bytes >= 0x80 are accepted in the local part and the domain (UTF-8) and
// reported in `has_utf8` so the caller can insist on SMTPUTF8. Dots in the
// local part are accepted leniently (consecutive or trailing dots occur in
// real addresses and harm nothing). Errors are InvalidArgument naming the
// problem, for the reply text.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace salvo::smtp {

struct ParsedPath {
  std::string address;  // without brackets; empty for the null path "<>"
  std::string domain;   // the part after the last '@' ("" for <> and <Postmaster>)
  bool has_utf8 = false;
  std::string_view rest;  // what follows '>' (ESMTP parameters), not trimmed
};

enum class PathKind { kReverse, kForward };

// Parses the path at the start of `text` (leading spaces are skipped: some
// clients write "MAIL FROM: <a@b>"). The returned `rest` points into `text`.
absl::StatusOr<ParsedPath> ParsePath(std::string_view text, PathKind kind);

// True for an LDH or UTF-8 domain ("mx.example.com") or an address literal;
// used for EHLO/HELO arguments as well.
bool IsValidDomain(std::string_view domain);
bool IsAddressLiteral(std::string_view domain);

}  // namespace salvo::smtp
