// Non-standard bounces: the failed addresses and their diagnostics from the
// plain-text body of a bounce written by Postfix, Exim, Sendmail, qmail,
// Exchange, Gmail or Yahoo style MTAs (and the many that imitate them).
// Line-based, linear, no regular expressions; the quoted original message
// (after "copy of the message" style markers) is ignored.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace salvo::dsn {

struct PlainBounceHit {
  std::string address;
  std::string diagnostic;  // the text block that explains the failure, one line
  std::string remote_mta;  // "host NAME" when the text names one
};

// At most `max_hits` addresses; *truncated is set when there were more.
std::vector<PlainBounceHit> ExtractPlainBounce(std::string_view text, size_t max_hits,
                                               bool* truncated);

// The part of `text` before the returned copy of the original message.
std::string_view BeforeReturnedOriginal(std::string_view text);

}  // namespace salvo::dsn
