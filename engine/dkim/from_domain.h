// The domain of the author address in a From header field value: the domain
// DKIM keys are chosen by, so that d= aligns with From (DMARC).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace salvo::dkim {

// `value` is the field body after "From:" (may be folded). Handles display
// names, quoted strings and comments; returns the domain lower-cased.
// Fails on no address, a domain literal, or more than one mailbox.
absl::StatusOr<std::string> FromDomain(std::string_view value);

}  // namespace salvo::dkim
