#include "engine/imap/imap_server.h"

#include "engine/imap/imap_session.h"
#include "engine/loop/ring.h"
#include "engine/net/accept_loop.h"
#include "engine/smtp/server/limited_session.h"

namespace salvo::imap {
namespace {

Task<void> Session(Socket socket, std::shared_ptr<const ImapOptions> options,
                   std::shared_ptr<int> active) {
  return smtp::RunLimitedSession<ImapSession, ImapOptions>(std::move(socket), std::move(options),
                                                           std::move(active), "imapd",
                                                           "Too many connections; try again later");
}

}  // namespace

Task<void> RunImapSession(Socket socket, std::shared_ptr<const ImapOptions> options) {
  return Session(std::move(socket), std::move(options), std::make_shared<int>(0));
}

ImapServer::ImapServer(std::shared_ptr<const ImapOptions> options) : options_(std::move(options)) {}

Task<void> ImapServer::Serve(Listener listener) {
  return AcceptConnections(
      std::move(listener), "imapd", options_->listener_name, [this](Socket socket) {
        return Ring::Current()->gate().Spawn(Session(std::move(socket), options_, active_));
      });
}

}  // namespace salvo::imap
