// MailboxListeners: the POP3 and IMAP listeners of the daemon, serving the
// bounce mailbox (the spool's queue::Mailbox) to the [[user]] accounts.
//
//   Bind()       every pop3/pop3s/imap/imaps [[listener]] once per shard
//                (SO_REUSEPORT), so a busy port fails the start;
//   RunShard()   spawns each listener's accept loop on the shard's gate;
//   Apply()      a reloaded config (users, [mailbox]): new options, handed to
//                each shard's servers by PushToShard() on that shard's ring
//                (Services::Apply posts it), for new sessions.
//
// The store is the spool's mailbox: the spool outlives this object (see
// ~Services), so the MailStore pointer handed to sessions stays valid.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "engine/config/config.h"
#include "engine/imap/imap_server.h"
#include "engine/loop/ring.h"
#include "engine/loop/task.h"
#include "engine/mailbox/mail_store.h"
#include "engine/net/socket.h"
#include "engine/pop3/pop3_server.h"
#include "engine/smtp/server/credentials.h"
#include "engine/smtp/server/limits.h"
#include "engine/tls/tls_context.h"

namespace salvo {

bool IsMailboxKind(ListenerKind kind);

class MailboxListeners {
 public:
  MailboxListeners(std::shared_ptr<mailbox::MailStore> store, std::shared_ptr<TlsContext> tls,
                   int shards);

  // Binds the listeners of `config`; appends (name, kind, address) for each.
  struct Bound {
    std::string name;
    ListenerKind kind;
    SocketAddress address;
  };
  absl::Status Bind(const Config& config, std::vector<Bound>* bound);
  // New options for new sessions; `credentials` may be null (nobody logs in).
  void Apply(const Config& config, std::shared_ptr<smtp::CredentialStore> credentials);
  void RunShard(Ring& ring, int shard);
  // On shard `shard`'s ring: the latest options to its servers.
  void PushToShard(int shard);

 private:
  template <typename Server>
  Task<void> Serve(int shard, std::unique_ptr<Server> server, Listener listener);

  struct Listening {
    const ListenerConfig* config;
    std::vector<Listener> per_shard;
    std::shared_ptr<smtp::ConnectionLimiter> connections;
    std::shared_ptr<smtp::AuthFailureLimiter> auth_failures;
    std::shared_ptr<const pop3::Pop3Options> pop3;  // guarded by mu_
    std::shared_ptr<const imap::ImapOptions> imap;  // guarded by mu_
  };

  std::shared_ptr<mailbox::MailStore> store_;
  std::shared_ptr<TlsContext> tls_;
  const int shards_;
  std::shared_ptr<const Config> config_;
  std::vector<Listening> listeners_;
  std::mutex mu_;
  // Each shard's running servers (owned by their Serve tasks); guarded by mu_.
  std::vector<std::vector<pop3::Pop3Server*>> pop3_servers_;
  std::vector<std::vector<imap::ImapServer*>> imap_servers_;
};

}  // namespace salvo
