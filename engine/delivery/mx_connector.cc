#include "engine/delivery/mx_connector.h"

#include <sys/socket.h>

#include "engine/tls/tls_stream.h"
#include "fmt/format.h"

namespace salvo::delivery {
namespace {

using namespace std::chrono_literals;

Task<absl::StatusOr<std::unique_ptr<Stream>>> StartClientTls(std::shared_ptr<TlsContext> tls,
                                                             std::string sni, Stream* transport,
                                                             Deadline deadline) {
  auto stream =
      co_await TlsStream::Handshake(*tls, transport, TlsRole::kClient, std::move(sni), deadline);
  if (!stream.ok()) co_return stream.status();
  co_return std::unique_ptr<Stream>(std::move(*stream));
}

smtp::TlsPolicy ToSmtp(TlsPolicy p) {
  switch (p) {
    case TlsPolicy::kOff:
      return smtp::TlsPolicy::kOff;
    case TlsPolicy::kRequired:
      return smtp::TlsPolicy::kRequired;
    default:
      return smtp::TlsPolicy::kOpportunistic;
  }
}

SocketAddress ToSocketAddress(const dns::IpAddress& ip, uint16_t port) {
  sockaddr_storage ss{};
  socklen_t len = ip.ToSockaddr(port, &ss);
  return SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

}  // namespace

smtp::ClientOptions ClientOptionsFor(const DeliveryPolicy& policy, const Source& source,
                                     std::shared_ptr<TlsContext> tls, const std::string& sni) {
  smtp::ClientOptions o;
  o.ehlo_name = source.ehlo;
  o.tls_policy = ToSmtp(policy.tls);
  if (tls != nullptr && policy.tls != TlsPolicy::kOff) {
    o.start_tls = [tls, sni](Stream* transport, Deadline d) {
      return StartClientTls(tls, sni, transport, d);
    };
  }
  smtp::ClientTimeouts& t = o.timeouts;
  t.greeting = policy.greeting_timeout;
  t.ehlo = t.starttls = t.mail = t.rcpt = t.rset = policy.command_timeout;
  t.quit = std::min<Duration>(policy.command_timeout, 30s);
  t.data_init = policy.data_timeout;
  t.data_block = policy.data_block_timeout;
  t.data_term = policy.data_done_timeout;
  o.pipeline_messages = policy.pipeline_messages;
  return o;
}

Task<std::variant<SiteConnection, ConnectFailure>> ConnectToSite(
    std::shared_ptr<const NextHops> hops, Source source, DeliveryPolicy policy,
    std::shared_ptr<TlsContext> tls, int max_addresses, std::function<bool()> stopping) {
  ConnectFailure failure{.error = absl::UnavailableError("no address to connect to"),
                         .stage = "connect"};
  for (const dns::MxHost& host : hops->hosts) {
    for (const dns::IpAddress& ip : host.addresses) {
      if (failure.addresses_tried >= max_addresses || stopping()) co_return failure;
      if (source.address && source.address->family() != ip.family()) continue;
      ++failure.addresses_tried;
      SocketAddress remote = ToSocketAddress(ip, hops->port);
      failure.peer = AttemptPeer{.host = host.name, .ip = ip.ToString()};
      auto socket = co_await Connect(remote, source.address, After(policy.connect_timeout));
      if (!socket.ok()) {
        failure.error = socket.status();
        failure.reply = smtp::SmtpReply();
        failure.stage = "connect";
        continue;
      }
      int fd = socket->fd();
      std::string local = source.address ? source.address->HostString() : "";
      auto session = std::make_unique<smtp::SmtpClientSession>(
          std::move(*socket), ClientOptionsFor(policy, source, tls, host.name));
      absl::Status started = co_await session->Start();
      if (started.ok()) {
        co_return SiteConnection{.session = std::move(session),
                                 .peer = failure.peer,
                                 .local = std::move(local),
                                 .fd = fd};
      }
      failure.error = started;
      failure.reply = session->last_reply();
      failure.stage = "greeting/EHLO/STARTTLS";
      co_await session->Quit();
    }
  }
  co_return failure;
}

}  // namespace salvo::delivery
