#include "cmd/mailbox_listeners.h"

#include <algorithm>
#include <type_traits>
#include <utility>

#include "cmd/listener_binding.h"
#include "engine/base/status_macros.h"
#include "engine/base/strings.h"
#include "engine/pop3/apop.h"
#include "fmt/format.h"

namespace salvo {

bool IsMailboxKind(ListenerKind kind) {
  return kind == ListenerKind::kPop3 || kind == ListenerKind::kPop3s ||
         kind == ListenerKind::kImap || kind == ListenerKind::kImaps;
}

namespace {

bool IsPop3(ListenerKind kind) {
  return kind == ListenerKind::kPop3 || kind == ListenerKind::kPop3s;
}

std::vector<smtp::UserAccount> Accounts(const Config& config) {
  std::vector<smtp::UserAccount> users;
  for (const UserConfig& u : config.users) {
    users.push_back(smtp::UserAccount{
        .name = u.name, .password_hash = u.password_hash, .cram_md5_secret = u.cram_md5_secret});
  }
  return users;
}

}  // namespace

MailboxListeners::MailboxListeners(std::shared_ptr<mailbox::MailStore> store,
                                   std::shared_ptr<TlsContext> tls, int shards)
    : store_(std::move(store)),
      tls_(std::move(tls)),
      shards_(shards),
      pop3_servers_(shards),
      imap_servers_(shards) {}

absl::Status MailboxListeners::Bind(const Config& config, std::vector<Bound>* bound) {
  for (const ListenerConfig& l : config.listeners) {
    if (!IsMailboxKind(l.kind)) continue;
    if (l.tls != ListenerTls::kNone && tls_ == nullptr) {
      return absl::FailedPreconditionError(
          fmt::format("listener {}: TLS wanted but no certificate is loaded", l.name));
    }
    Listening listening{.config = &l};
    ASSIGN_OR_RETURN(listening.per_shard, BindConfiguredListener(l, shards_));
    SocketAddress address = listening.per_shard.front().address();
    listening.connections = std::make_shared<smtp::ConnectionLimiter>(
        l.limits.max_connections, config.mailbox.max_connections_per_client);
    listening.auth_failures = std::make_shared<smtp::AuthFailureLimiter>(
        config.mailbox.max_auth_failures, config.smtp.auth_failure_window);
    bound->push_back(Bound{.name = l.name, .kind = l.kind, .address = address});
    listeners_.push_back(std::move(listening));
  }
  return absl::OkStatus();
}

void MailboxListeners::Apply(const Config& config,
                             std::shared_ptr<smtp::CredentialStore> credentials) {
  auto apop = std::make_shared<const pop3::ApopSecrets>(Accounts(config));
  std::lock_guard<std::mutex> lock(mu_);
  for (Listening& l : listeners_) {
    // The config object that l.config points into stays alive (Services
    // keeps the first one); only the reloadable parts are read from `config`.
    const ListenerConfig& lc = *l.config;
    if (IsPop3(lc.kind)) {
      auto o = std::make_shared<pop3::Pop3Options>();
      o->hostname = config.server.hostname;
      o->listener_name = lc.name;
      o->tls_mode = lc.tls == ListenerTls::kImplicit   ? pop3::Pop3TlsMode::kImplicit
                    : lc.tls == ListenerTls::kStartTls ? pop3::Pop3TlsMode::kStls
                                                       : pop3::Pop3TlsMode::kNone;
      o->tls = tls_;
      o->credentials = credentials;
      o->apop = apop;
      o->allow_plaintext_auth = config.mailbox.allow_plaintext_auth;
      o->store = store_;
      o->folder = config.mailbox.pop3_folder;
      o->keep_messages = config.mailbox.pop3_keep_messages;
      o->limits.max_command_line =
          std::min<size_t>(o->limits.max_command_line, lc.limits.max_line_length);
      o->timeouts.idle = lc.limits.command_timeout;
      o->connections = l.connections;
      o->auth_failures = l.auth_failures;
      l.pop3 = std::move(o);
    } else {
      auto o = std::make_shared<imap::ImapOptions>();
      o->hostname = config.server.hostname;
      o->listener_name = lc.name;
      o->tls_mode = lc.tls == ListenerTls::kImplicit ? imap::ImapTlsMode::kImplicit
                                                     : imap::ImapTlsMode::kNone;
      // STARTTLS is offered when a context is set on a plain listener.
      o->tls = lc.tls == ListenerTls::kNone ? nullptr : tls_;
      o->allow_plaintext_auth = config.mailbox.allow_plaintext_auth;
      o->credentials = credentials;
      o->store = store_;
      o->limits.max_line = lc.limits.max_line_length;
      o->limits.max_append = lc.limits.max_message_size;
      o->timeouts.idle = lc.limits.command_timeout;
      o->connections = l.connections;
      o->auth_failures = l.auth_failures;
      l.imap = std::move(o);
    }
  }
}

void MailboxListeners::PushToShard(int shard) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Listening& l : listeners_) {
    for (pop3::Pop3Server* s : pop3_servers_[shard]) {
      if (l.pop3 != nullptr && s->listener_name() == l.config->name) s->set_options(l.pop3);
    }
    for (imap::ImapServer* s : imap_servers_[shard]) {
      if (l.imap != nullptr && s->listener_name() == l.config->name) s->set_options(l.imap);
    }
  }
}

template <typename Server>
Task<void> MailboxListeners::Serve(int shard, std::unique_ptr<Server> server, Listener listener) {
  co_await server->Serve(std::move(listener));
  std::lock_guard<std::mutex> lock(mu_);
  if constexpr (std::is_same_v<Server, pop3::Pop3Server>) {
    std::erase(pop3_servers_[shard], server.get());
  } else {
    std::erase(imap_servers_[shard], server.get());
  }
}

void MailboxListeners::RunShard(Ring& ring, int shard) {
  for (Listening& l : listeners_) {
    std::unique_ptr<pop3::Pop3Server> pop3;
    std::unique_ptr<imap::ImapServer> imap;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (l.pop3 != nullptr) {
        pop3 = std::make_unique<pop3::Pop3Server>(l.pop3);
        pop3_servers_[shard].push_back(pop3.get());
      } else if (l.imap != nullptr) {
        imap = std::make_unique<imap::ImapServer>(l.imap);
        imap_servers_[shard].push_back(imap.get());
      }
    }
    // Spawned outside the lock: a Serve that ends at once takes it.
    if (pop3 != nullptr) {
      ring.gate().Spawn(Serve(shard, std::move(pop3), std::move(l.per_shard[shard])));
    } else if (imap != nullptr) {
      ring.gate().Spawn(Serve(shard, std::move(imap), std::move(l.per_shard[shard])));
    }
  }
}

}  // namespace salvo
