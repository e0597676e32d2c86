#include "engine/pop3/pop3_server.h"

#include "engine/loop/ring.h"
#include "engine/net/accept_loop.h"
#include "engine/pop3/session.h"
#include "engine/smtp/server/limited_session.h"

namespace salvo::pop3 {
namespace {

Task<void> Session(Socket socket, std::shared_ptr<const Pop3Options> options,
                   std::shared_ptr<int> active) {
  return smtp::RunLimitedSession<Pop3Session, Pop3Options>(std::move(socket), std::move(options),
                                                           std::move(active), "pop3d",
                                                           "Too many connections; try again later");
}

}  // namespace

Task<void> RunPop3Session(Socket socket, std::shared_ptr<const Pop3Options> options) {
  return Session(std::move(socket), std::move(options), std::make_shared<int>(0));
}

Pop3Server::Pop3Server(std::shared_ptr<const Pop3Options> options) : options_(std::move(options)) {}

Task<void> Pop3Server::Serve(Listener listener) {
  return AcceptConnections(
      std::move(listener), "pop3d", options_->listener_name, [this](Socket socket) {
        return Ring::Current()->gate().Spawn(Session(std::move(socket), options_, active_));
      });
}

}  // namespace salvo::pop3
