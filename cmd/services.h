// Services: the long-lived parts of a running Salvo, built by the daemon
// before its shards start and torn down after they have stopped.
//
//   Open()       data_dir/spool (RocksDB; recovery logged), the TLS server
//                certificate (self-signed on first run when configured), the
//                VERP secret (data_dir/verp.key, created 0600 once), the AUTH
//                users, the delivery engine, and every SMTP listener bound on
//                every shard (SO_REUSEPORT) so that a busy port fails the
//                start, not a shard later.
//   RunShard()   on each shard: the SMTP listeners' accept loops and the
//                delivery engine's work, until the shard is asked to stop.
//   Apply()      a reloaded config: SMTP policy for new sessions, shaping for
//                new deliveries; listeners and data_dir need a restart.
//   ~Services()  after the shards have joined: the engine, then the spool
//                (which writes what is still pending before closing).
//
// Kinds served here: smtp (relay + bounce MX), bounce (bounce MX only),
// submission, smtps, http (the API), and pop3/pop3s/imap/imaps on the bounce
// mailbox (cmd/mailbox_listeners.h).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "api/http/http_server.h"
#include "bounce/bounce_ingester.h"
#include "cmd/mailbox_listeners.h"
#include "cmd/spool_metrics.h"
#include "engine/config/config.h"
#include "engine/delivery/delivery_engine.h"
#include "engine/dkim/dkim_keyring.h"
#include "engine/loop/ring.h"
#include "engine/loop/task.h"
#include "engine/net/socket.h"
#include "engine/smtp/server/server_options.h"
#include "engine/smtp/server/smtp_server.h"
#include "queue/spool.h"

namespace salvo {

class Services {
 public:
  static absl::StatusOr<std::unique_ptr<Services>> Open(std::shared_ptr<const Config> config,
                                                        int shards);
  ~Services();
  Services(const Services&) = delete;
  Services& operator=(const Services&) = delete;

  // The work of shard `shard` (0 <= shard < shards) on `ring`.
  Task<void> RunShard(Ring& ring, int shard);
  // A new config is in force (SIGHUP). Thread-safe.
  void Apply(std::shared_ptr<const Config> config);

  // The addresses actually bound (port 0 in the config becomes a real port).
  struct BoundListener {
    std::string name;
    ListenerKind kind;
    SocketAddress address;
  };
  const std::vector<BoundListener>& bound() const { return bound_; }
  queue::Spool& spool() { return *spool_; }

 private:
  struct SmtpListener {
    const ListenerConfig* config;  // points into config_ at Open
    std::vector<Listener> per_shard;
    std::shared_ptr<smtp::ConnectionLimiter> connections;
    std::shared_ptr<smtp::AuthFailureLimiter> auth_failures;
  };

  struct HttpListener {
    std::shared_ptr<const HttpServer> server;
    std::vector<Listener> per_shard;
  };

  explicit Services(std::shared_ptr<const Config> config, int shards);
  absl::Status BindHttp(const ListenerConfig& l);
  absl::Status OpenSpool();
  absl::Status LoadTls();
  absl::Status LoadVerpSecret();
  absl::Status StartDelivery();
  absl::Status StartBounces();
  absl::Status BindListeners();
  absl::StatusOr<std::shared_ptr<const smtp::ServerOptions>> SmtpOptions(
      const Config& config, const SmtpListener& listener,
      std::shared_ptr<smtp::CredentialStore> credentials) const;
  std::shared_ptr<const smtp::ServerOptions> current_options(size_t listener) const;
  void PushOptionsToShard(int shard);
  Task<void> ServeListener(int shard, std::unique_ptr<smtp::SmtpServer> server, Listener listener);

  std::shared_ptr<const Config> config_;
  const int shards_;
  std::unique_ptr<queue::Spool> spool_;
  std::unique_ptr<SpoolMetrics> spool_metrics_;  // /metrics reads spool_ while this lives
  std::shared_ptr<TlsContext> tls_server_;
  std::string verp_secret_;
  std::unique_ptr<delivery::DeliveryEngine> delivery_;
  // Shared with the delivery engine (signing) and the HTTP API (campaign checks).
  std::shared_ptr<dkim::DkimKeyring> keyring_;
  std::shared_ptr<smtp::MessageSink> sink_;
  std::shared_ptr<bounce::BounceIngester> bounces_;
  std::shared_ptr<smtp::MessageSink> dispatch_;  // the smtp kind: relay + bounce MX
  std::shared_ptr<smtp::SuppressionCheck> suppression_;
  std::vector<SmtpListener> smtp_;
  std::vector<HttpListener> http_;
  std::unique_ptr<MailboxListeners> mailboxes_;  // pop3/imap on the bounce mailbox
  std::vector<BoundListener> bound_;

  mutable std::mutex mu_;
  std::vector<std::shared_ptr<const smtp::ServerOptions>> smtp_options_;  // guarded by mu_
  // Each shard's ring and SMTP servers while its RunShard runs; guarded by mu_.
  std::vector<Ring*> rings_;
  std::vector<std::vector<smtp::SmtpServer*>> servers_;
};

}  // namespace salvo
