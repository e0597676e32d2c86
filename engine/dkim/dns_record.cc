#include "engine/dkim/dns_record.h"

#include <fmt/format.h>

namespace salvo::dkim {

std::string DkimRecordName(std::string_view selector, std::string_view domain) {
  return fmt::format("{}._domainkey.{}.", selector, domain);
}

absl::StatusOr<std::string> DkimRecordText(const crypto::DkimKey& key) {
  auto p = key.PublicKeyBase64();
  if (!p.ok()) return p.status();
  return fmt::format("v=DKIM1; k={}; p={}", key.key_tag(), *p);
}

std::string DkimZoneLine(std::string_view name, std::string_view text) {
  constexpr size_t kMaxString = 255;
  std::string out = fmt::format("{} IN TXT (", name);
  while (!text.empty()) {
    size_t n = std::min(text.size(), kMaxString);
    out.append(fmt::format(" \"{}\"", text.substr(0, n)));
    text.remove_prefix(n);
  }
  out.append(" )");
  return out;
}

}  // namespace salvo::dkim
