// Domain names as dns/ queries and compares them: ASCII, A-labels for
// internationalized names (IDNA 2008 through libidn2, UTS #46
// non-transitional), lower case, without the trailing dot. Every name that
// reaches the wire or the cache went through NormalizeDomain() or came from a
// parsed answer (which the parser lower-cases), so equal names are equal
// strings.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace salvo::dns {

constexpr size_t kMaxDomainLength = 253;  // without the trailing dot
constexpr size_t kMaxLabelLength = 63;

// "Bücher.Example." -> "xn--bcher-kva.example". InvalidArgument (a permanent
// failure for the recipient) for an empty name, an address literal, an empty
// or over-long label, or characters outside letters, digits, '-' and '_'.
absl::StatusOr<std::string> NormalizeDomain(std::string_view domain);

// True for a name NormalizeDomain() would return unchanged: labels of 1..63
// characters from [a-z0-9_-], at most 253 characters in all.
bool IsValidHostname(std::string_view name);

}  // namespace salvo::dns
