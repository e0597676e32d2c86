#include "engine/smtp/server/received_header.h"

#include "engine/smtp/server/server_reply.h"
#include "fmt/format.h"

namespace salvo::smtp {
namespace {

// A HELO name as a Received: "from" token: printable, no comment syntax.
std::string HeaderToken(std::string_view s) {
  std::string out = Printable(s, 255);
  for (char& c : out) {
    if (c == '(' || c == ')' || c == ';' || c == ' ' || c == '\\') c = '_';
  }
  return out.empty() ? "unknown" : out;
}

std::string AddressLiteral(const SocketAddress& a) {
  std::string host = a.HostString();
  if (a.family() == AF_INET6) return fmt::format("[IPv6:{}]", host);
  return fmt::format("[{}]", host);
}

}  // namespace

std::string ReceivedProtocol(const ReceivedInfo& info) {
  std::string p = info.smtputf8 ? "UTF8SMTP" : (info.esmtp ? "ESMTP" : "SMTP");
  if (info.tls != nullptr && info.tls->active) p += 'S';
  if (info.authenticated) p += 'A';
  return p;
}

std::string ReceivedHeader(const ReceivedInfo& info) {
  std::string h =
      fmt::format("Received: from {} ({})\r\n\tby {} (Salvo) with {} id {}\r\n",
                  HeaderToken(info.helo), info.client ? AddressLiteral(*info.client) : "[unknown]",
                  info.hostname, ReceivedProtocol(info), info.id);
  if (info.tls != nullptr && info.tls->active) {
    h += fmt::format("\t(using {} with cipher {} ({} bits))\r\n", info.tls->protocol,
                     info.tls->cipher, info.tls->bits);
  }
  std::string date = absl::FormatTime("%a, %d %b %Y %H:%M:%S %z", info.when, absl::UTCTimeZone());
  if (!info.single_recipient.empty()) {
    h += fmt::format("\tfor <{}>; {}\r\n", Printable(info.single_recipient, 300), date);
  } else {
    h += fmt::format("\t; {}\r\n", date);
  }
  return h;
}

}  // namespace salvo::smtp
