// Capabilities: what a server's EHLO reply (RFC 5321 §4.1.1.1) advertises,
// parsed once per connection. Keywords are case-insensitive; unknown ones are
// kept for logs but change nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/smtp/reply.h"

namespace salvo::smtp {

struct Capabilities {
  bool esmtp = false;                  // false after a HELO fallback
  bool pipelining = false;             // RFC 2920
  bool starttls = false;               // RFC 3207
  bool eightbitmime = false;           // RFC 6152
  bool smtputf8 = false;               // RFC 6531
  bool chunking = false;               // RFC 3030 (BDAT)
  bool binarymime = false;             // RFC 3030
  bool enhanced_status_codes = false;  // RFC 2034
  bool dsn = false;                    // RFC 3461
  bool size_advertised = false;        // RFC 1870
  uint64_t max_size = 0;               // 0 = no limit given
  std::vector<std::string> auth;       // RFC 4954 mechanisms, upper case

  static Capabilities FromEhlo(const SmtpReply& reply);
};

}  // namespace salvo::smtp
