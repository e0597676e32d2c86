// The DNS TXT record that publishes a DKIM public key (RFC 6376 §3.6.1,
// RFC 8463 §4): the owner name and the record in zone-file form, its text
// split into strings of at most 255 octets as TXT requires.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/tls/dkim_crypto.h"

namespace salvo::dkim {

// "<selector>._domainkey.<domain>."
std::string DkimRecordName(std::string_view selector, std::string_view domain);

// "v=DKIM1; k=rsa; p=<base64>" for `key`'s public half.
absl::StatusOr<std::string> DkimRecordText(const crypto::DkimKey& key);

// A zone-file line: NAME IN TXT ( "..." "..." ), each string <= 255 octets.
std::string DkimZoneLine(std::string_view name, std::string_view text);

}  // namespace salvo::dkim
