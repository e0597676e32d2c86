#include "engine/smtp/server/smtp_server.h"

#include "engine/loop/ring.h"
#include "engine/net/accept_loop.h"
#include "engine/smtp/server/limited_session.h"
#include "engine/smtp/server/server_session.h"

namespace salvo::smtp {
namespace {

Task<void> Session(Socket socket, std::shared_ptr<const ServerOptions> options,
                   std::shared_ptr<int> active) {
  return RunLimitedSession<ServerSession, ServerOptions>(std::move(socket), std::move(options),
                                                         std::move(active), "smtpd",
                                                         "too many connections; try again later");
}

}  // namespace

Task<void> RunSmtpSession(Socket socket, std::shared_ptr<const ServerOptions> options) {
  return Session(std::move(socket), std::move(options), std::make_shared<int>(0));
}

SmtpServer::SmtpServer(std::shared_ptr<const ServerOptions> options)
    : options_(std::move(options)) {}

Task<void> SmtpServer::Serve(Listener listener) {
  return AcceptConnections(
      std::move(listener), "smtpd", options_->listener_name, [this](Socket socket) {
        return Ring::Current()->gate().Spawn(Session(std::move(socket), options_, active_));
      });
}

}  // namespace salvo::smtp
