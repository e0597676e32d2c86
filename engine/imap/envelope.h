// FETCH ENVELOPE, BODY and BODYSTRUCTURE (RFC 3501 §7.4.2) from a parsed
// MimeMessage: header fields become IMAP nstrings, address lists become
// (name adl mailbox host) lists. Encoded words are passed through as they
// are (clients decode them), as RFC 3501 asks.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/imap/mime_message.h"

namespace salvo::imap {

struct Address {
  std::string name;     // display name, unquoted
  std::string mailbox;  // local part
  std::string host;     // domain
};

// An RFC 5322 address list, leniently ("a@b, "N" <c@d>, e@f (comment)").
// Group syntax is flattened.
std::vector<Address> ParseAddressList(std::string_view text);

void AppendEnvelope(std::string& out, const MimePart& message);
// extended: BODYSTRUCTURE (with extension data); otherwise BODY.
void AppendBodyStructure(std::string& out, const MimePart& part, bool extended);

}  // namespace salvo::imap
