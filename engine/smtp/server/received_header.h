// The Received: trace header (RFC 5321 §4.4) the session prepends to every
// message it accepts, with the RFC 3848 / RFC 6531 protocol name (SMTP,
// ESMTP, ESMTPS, ESMTPA, ESMTPSA, UTF8SMTP...). Client-supplied parts (the
// HELO name) are sanitised so they cannot break the header.
#pragma once

#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "engine/net/socket_address.h"
#include "engine/smtp/server/message_sink.h"

namespace salvo::smtp {

struct ReceivedInfo {
  std::string_view helo;
  const SocketAddress* client = nullptr;
  std::string_view hostname;  // ours
  bool esmtp = false;
  bool authenticated = false;
  bool smtputf8 = false;
  const InboundTls* tls = nullptr;
  std::string_view id;
  std::string_view single_recipient;  // "for <...>" only with one recipient
  absl::Time when = absl::Now();
};

// "with" protocol name, e.g. "ESMTPSA".
std::string ReceivedProtocol(const ReceivedInfo& info);
// The full header field, folded, ending with CRLF.
std::string ReceivedHeader(const ReceivedInfo& info);

}  // namespace salvo::smtp
