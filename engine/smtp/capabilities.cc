#include "engine/smtp/capabilities.h"

#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "engine/base/strings.h"

namespace salvo::smtp {

Capabilities Capabilities::FromEhlo(const SmtpReply& reply) {
  Capabilities caps;
  caps.esmtp = true;
  // The first line is the greeting ("mx.example.com Hello ..."); keywords follow.
  for (size_t i = 1; i < reply.lines.size(); ++i) {
    std::string line = reply.lines[i];
    absl::AsciiStrToUpper(&line);
    std::vector<absl::string_view> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (words.empty()) continue;
    absl::string_view kw = words[0];
    if (kw == "PIPELINING") {
      caps.pipelining = true;
    } else if (kw == "STARTTLS") {
      caps.starttls = true;
    } else if (kw == "8BITMIME") {
      caps.eightbitmime = true;
    } else if (kw == "SMTPUTF8") {
      caps.smtputf8 = true;
    } else if (kw == "CHUNKING") {
      caps.chunking = true;
    } else if (kw == "BINARYMIME") {
      caps.binarymime = true;
    } else if (kw == "ENHANCEDSTATUSCODES") {
      caps.enhanced_status_codes = true;
    } else if (kw == "DSN") {
      caps.dsn = true;
    } else if (kw == "SIZE") {
      caps.size_advertised = true;
      if (words.size() > 1) {
        uint64_t v = 0;
        auto [p, ec] = std::from_chars(words[1].data(), words[1].data() + words[1].size(), v);
        if (ec == std::errc() && p == words[1].data() + words[1].size()) caps.max_size = v;
      }
    } else if (kw == "AUTH" || kw.substr(0, 5) == "AUTH=") {
      size_t first = kw == "AUTH" ? 1 : 0;
      for (size_t w = first; w < words.size(); ++w) {
        absl::string_view m = words[w];
        if (w == 0) m.remove_prefix(5);
        if (!m.empty()) caps.auth.emplace_back(m);
      }
    }
  }
  return caps;
}

}  // namespace salvo::smtp
