#include "dns/domain_name.h"

#include <idn2.h>

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "fmt/format.h"

namespace salvo::dns {
namespace {

bool IsHostnameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool HasNonAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

// Unicode -> A-labels. libidn2 wants a NUL-terminated UTF-8 string.
absl::StatusOr<std::string> ToALabels(std::string_view unicode) {
  std::string input(unicode);
  char* out = nullptr;
  int rc = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(input.c_str()),
                          reinterpret_cast<uint8_t**>(&out), IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  if (rc != IDN2_OK) {
    // Some names valid under IDNA 2003 only (e.g. with symbols) still map
    // under transitional processing; receivers registered them that way.
    rc = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(input.c_str()),
                        reinterpret_cast<uint8_t**>(&out), IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
  }
  if (rc != IDN2_OK) {
    return absl::InvalidArgumentError(fmt::format(
        "domain '{}' is not a valid internationalized name: {}", unicode, idn2_strerror(rc)));
  }
  std::string result(out);
  idn2_free(out);
  return result;
}

}  // namespace

bool IsValidHostname(std::string_view name) {
  if (name.empty() || name.size() > kMaxDomainLength) return false;
  size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!IsHostnameChar(c) || ++label > kMaxLabelLength) return false;
  }
  return label != 0;
}

absl::StatusOr<std::string> NormalizeDomain(std::string_view domain) {
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  if (domain.empty()) return absl::InvalidArgumentError("empty domain name");
  if (domain.front() == '[') {
    return absl::InvalidArgumentError(
        fmt::format("'{}' is an address literal, not a domain with MX records", domain));
  }
  std::string name;
  if (HasNonAscii(domain)) {
    auto alabels = ToALabels(domain);
    if (!alabels.ok()) return alabels.status();
    name = std::move(*alabels);
  } else {
    name.assign(domain);
  }
  absl::AsciiStrToLower(&name);
  if (!IsValidHostname(name)) {
    return absl::InvalidArgumentError(fmt::format("'{}' is not a valid domain name", domain));
  }
  return name;
}

}  // namespace salvo::dns
