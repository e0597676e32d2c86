#include "cmd/services.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <coroutine>
#include <filesystem>
#include <optional>

#include "api/api_routes.h"
#include "api/handlers/unsubscribe_v1.h"
#include "cmd/inbound_dispatch.h"
#include "cmd/listener_binding.h"
#include "cmd/spool_inbound.h"
#include "engine/base/errno_status.h"
#include "engine/base/status_macros.h"
#include "engine/base/strings.h"
#include "engine/base/unique_fd.h"
#include "engine/dkim/dkim_keyring.h"
#include "engine/tls/crypto.h"
#include "engine/tls/self_signed.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace salvo {
namespace {

// co_await StopRequested(ring): resumes once the shard is asked to stop.
class StopRequested {
 public:
  explicit StopRequested(Ring& ring) : ring_(ring) {}
  bool await_ready() const noexcept { return ring_.stop_requested(); }
  void await_suspend(std::coroutine_handle<> h) {
    on_stop_.emplace(ring_, [h] { h.resume(); });
  }
  void await_resume() const noexcept {}

 private:
  Ring& ring_;
  std::optional<Ring::StopCallback> on_stop_;
};

bool IsSmtpKind(ListenerKind kind) {
  return kind == ListenerKind::kSmtp || kind == ListenerKind::kSubmission ||
         kind == ListenerKind::kSmtps || kind == ListenerKind::kBounce;
}

absl::Duration ToAbslDuration(Duration d) {
  return absl::Milliseconds(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

// Reads the secret at `path`, or creates one (32 random bytes, hex, 0600).
absl::StatusOr<std::string> ReadOrCreateSecret(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd) {
    char buf[512];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) return ErrnoStatus(errno, fmt::format("cannot read {}", path));
    std::string secret(buf, static_cast<size_t>(n));
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    if (secret.size() < 16) {
      return absl::FailedPreconditionError(
          fmt::format("{} holds fewer than 16 bytes: not a usable secret", path));
    }
    return secret;
  }
  if (errno != ENOENT) return ErrnoStatus(errno, fmt::format("cannot open {}", path));
  absl::StatusOr<std::string> raw = crypto::RandomBytes(32);
  if (!raw.ok()) return raw.status();
  std::string secret = crypto::Hex(*raw);
  std::string tmp = path + ".tmp";
  UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!out) return ErrnoStatus(errno, fmt::format("cannot create {}", tmp));
  std::string text = secret + "\n";
  if (::write(out.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
      ::fsync(out.get()) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return ErrnoStatus(errno, fmt::format("cannot write {}", path));
  }
  spdlog::info("created VERP secret {}", path);
  return secret;
}

// The operator's bounce rules file (at most 1 MiB).
absl::StatusOr<std::string> ReadRulesFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoStatus(errno, fmt::format("cannot open {}", path));
  std::string text;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, fmt::format("cannot read {}", path));
    if (n == 0) return text;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > (1u << 20)) {
      return absl::InvalidArgumentError(fmt::format("{} is larger than 1 MiB", path));
    }
  }
}

}  // namespace

Services::Services(std::shared_ptr<const Config> config, int shards)
    : config_(std::move(config)), shards_(shards), rings_(shards), servers_(shards) {}

Services::~Services() {
  // The shards have joined: nothing runs on a ring any more.
  smtp_.clear();
  http_.clear();
  mailboxes_.reset();
  delivery_.reset();
  if (spool_ != nullptr) spdlog::info("closing the spool");
  bounces_.reset();  // its parser threads finish before the spool closes
  dispatch_.reset();
  sink_.reset();
  spool_metrics_.reset();
  spool_.reset();
}

absl::StatusOr<std::unique_ptr<Services>> Services::Open(std::shared_ptr<const Config> config,
                                                         int shards) {
  std::unique_ptr<Services> s(new Services(std::move(config), shards));
  if (absl::Status st = s->OpenSpool(); !st.ok()) return st;
  if (absl::Status st = s->LoadTls(); !st.ok()) return st;
  if (absl::Status st = s->LoadVerpSecret(); !st.ok()) return st;
  if (absl::Status st = s->StartDelivery(); !st.ok()) return st;
  if (absl::Status st = s->StartBounces(); !st.ok()) return st;
  if (absl::Status st = s->BindListeners(); !st.ok()) return st;
  return s;
}

absl::Status Services::OpenSpool() {
  const Config& c = *config_;
  queue::SpoolOptions options;
  options.path = c.server.data_dir + "/spool";
  options.retry.intervals.clear();
  for (Duration d : c.queue.retry_schedule) options.retry.intervals.push_back(ToAbslDuration(d));
  options.retry.jitter = c.queue.retry_jitter;
  options.retry.max_age = ToAbslDuration(c.queue.max_age);
  options.max_group_bytes = c.queue.max_group_size;
  options.max_pending_bytes = c.queue.max_pending_size;
  options.min_free_bytes = c.queue.min_free_space;
  options.memtable_bytes = c.queue.memtable_size;
  options.block_cache_bytes = c.queue.block_cache_size;
  options.feedback_retention = ToAbslDuration(c.queue.feedback_retention);
  options.sync_wal = c.queue.sync_wal;
  options.outcome_sync_delay = ToAbslDuration(c.queue.outcome_sync_delay);
  absl::StatusOr<std::unique_ptr<queue::Spool>> spool = queue::Spool::Open(std::move(options));
  if (!spool.ok()) {
    return absl::Status(spool.status().code(),
                        fmt::format("spool: {}", ToStd(spool.status().message())));
  }
  spool_ = std::move(spool).value();
  spool_metrics_ = std::make_unique<SpoolMetrics>(spool_.get());
  return absl::OkStatus();
}

absl::Status Services::LoadTls() {
  const Config& c = *config_;
  bool wanted = false;
  for (const ListenerConfig& l : c.listeners) wanted |= l.tls != ListenerTls::kNone;
  if (!wanted) return absl::OkStatus();
  if (c.tls.self_signed) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(c.tls.cert_file).parent_path(), ec);
    absl::StatusOr<bool> made =
        EnsureSelfSigned(c.tls.cert_file, c.tls.key_file, c.server.hostname, 825);
    if (!made.ok()) return made.status();
    if (*made) spdlog::warn("generated a self-signed certificate {}", c.tls.cert_file);
  }
  absl::StatusOr<TlsContext> ctx = TlsContext::Server(
      TlsServerOptions{.cert_chain_file = c.tls.cert_file, .key_file = c.tls.key_file});
  if (!ctx.ok()) return ctx.status();
  tls_server_ = std::make_shared<TlsContext>(std::move(ctx).value());
  return absl::OkStatus();
}

absl::Status Services::LoadVerpSecret() {
  absl::StatusOr<std::string> secret = ReadOrCreateSecret(config_->bounce.verp_secret_file);
  if (!secret.ok()) return secret.status();
  verp_secret_ = std::move(secret).value();
  return absl::OkStatus();
}

absl::Status Services::StartDelivery() {
  delivery::DeliveryEngineOptions options;
  options.spool = spool_.get();
  options.config = config_;
  options.shards = shards_;
  options.hostname = config_->server.hostname;
  options.verp_secret = verp_secret_;
  absl::StatusOr<std::shared_ptr<dkim::DkimKeyring>> keyring =
      dkim::DkimKeyring::Create(config_->dkim);
  if (!keyring.ok()) return keyring.status();
  (*keyring)->set_public_url(config_->api.public_url);
  keyring_ = *keyring;
  options.dkim = *std::move(keyring);
  std::string log_dir = config_->server.data_dir + "/log";
  std::error_code ec;
  std::filesystem::create_directories(log_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        fmt::format("cannot create {}: {}", log_dir, ec.message()));
  }
  options.tuning.log.path = log_dir + "/delivery.jsonl";
  absl::StatusOr<std::unique_ptr<delivery::DeliveryEngine>> engine =
      delivery::DeliveryEngine::Create(std::move(options));
  if (!engine.ok()) return engine.status();
  delivery_ = std::move(engine).value();
  delivery::DeliveryEngine* kick = delivery_.get();
  sink_ = std::make_shared<SpoolMessageSink>(spool_.get(), [kick] { kick->Kick(); });
  suppression_ = std::make_shared<SpoolSuppressionCheck>(spool_.get());
  return absl::OkStatus();
}

absl::Status Services::StartBounces() {
  const BounceConfig& b = config_->bounce;
  bounce::BounceIngesterOptions options;
  options.spool = spool_.get();
  options.verp_secret = verp_secret_;
  options.fbl_addresses = b.fbl_addresses;
  options.limits.max_message_bytes = b.max_parse_size;
  options.soft_bounce_limit = b.soft_bounce_limit;
  options.soft_bounce_window = ToAbslDuration(b.soft_bounce_window);
  if (!b.rules_file.empty()) {
    absl::StatusOr<std::string> text = ReadRulesFile(b.rules_file);
    if (!text.ok()) return text.status();
    absl::StatusOr<dsn::BounceRules> rules = dsn::BounceRules::Parse(*text);
    if (!rules.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("{}: {}", b.rules_file, ToStd(rules.status().message())));
    }
    options.rules = std::make_shared<const dsn::BounceRules>(std::move(rules).value());
  }
  bounces_ = std::make_shared<bounce::BounceIngester>(std::move(options));
  dispatch_ = std::make_shared<InboundDispatchSink>(b.domains, b.fbl_addresses, bounces_, sink_);
  return absl::OkStatus();
}

absl::Status Services::BindListeners() {
  const Config& c = *config_;
  for (const ListenerConfig& l : c.listeners) {
    if (l.kind == ListenerKind::kHttp) {
      if (absl::Status st = BindHttp(l); !st.ok()) return st;
      continue;
    }
    if (!IsSmtpKind(l.kind)) continue;  // the banner says it is not served
    SmtpListener listener{.config = &l};
    ASSIGN_OR_RETURN(listener.per_shard, BindConfiguredListener(l, shards_));
    SocketAddress address = listener.per_shard.front().address();
    listener.connections = std::make_shared<smtp::ConnectionLimiter>(
        l.limits.max_connections, c.smtp.max_connections_per_client);
    listener.auth_failures = std::make_shared<smtp::AuthFailureLimiter>(c.smtp.max_auth_failures,
                                                                        c.smtp.auth_failure_window);
    bound_.push_back(BoundListener{.name = l.name, .kind = l.kind, .address = address});
    smtp_.push_back(std::move(listener));
  }
  // The mailbox belongs to the spool, which outlives every listener.
  std::shared_ptr<mailbox::MailStore> store(std::shared_ptr<void>(), &spool_->mailbox());
  mailboxes_ = std::make_unique<MailboxListeners>(std::move(store), tls_server_, shards_);
  std::vector<MailboxListeners::Bound> mailbox_bound;
  if (absl::Status st = mailboxes_->Bind(c, &mailbox_bound); !st.ok()) return st;
  for (MailboxListeners::Bound& b : mailbox_bound) {
    bound_.push_back(BoundListener{.name = b.name, .kind = b.kind, .address = b.address});
  }
  Apply(config_);
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& o : smtp_options_) {
    if (o == nullptr)
      return absl::FailedPreconditionError("an SMTP listener has no usable options");
  }
  return absl::OkStatus();
}

absl::Status Services::BindHttp(const ListenerConfig& l) {
  absl::StatusOr<HttpServerOptions> options =
      api::HttpOptionsFromConfig(l, config_->api, shards_, tls_server_);
  if (!options.ok()) {
    return absl::Status(options.status().code(),
                        fmt::format("listener {}: {}", l.name, ToStd(options.status().message())));
  }
  HttpRouter router;
  if (absl::Status st = api::AddOperationalRoutes(router, {}); !st.ok()) return st;
  delivery::DeliveryEngine* engine = delivery_.get();
  if (absl::Status st = api::AddSubmissionRoutes(
          router, spool_.get(), [engine] { engine->Kick(); }, "", keyring_,
          [engine] { engine->RetryNow(); });
      !st.ok()) {
    return st;
  }
  if (absl::Status st = api::AddUnsubscribeRoutes(router, spool_.get(), verp_secret_); !st.ok()) {
    return st;
  }
  HttpListener listener;
  listener.server =
      std::make_shared<const HttpServer>(std::move(options).value(), std::move(router));
  ASSIGN_OR_RETURN(listener.per_shard, BindConfiguredListener(l, shards_));
  SocketAddress address = listener.per_shard.front().address();
  bound_.push_back(BoundListener{.name = l.name, .kind = l.kind, .address = address});
  http_.push_back(std::move(listener));
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const smtp::ServerOptions>> Services::SmtpOptions(
    const Config& c, const SmtpListener& listener,
    std::shared_ptr<smtp::CredentialStore> credentials) const {
  const ListenerConfig& l = *listener.config;
  auto o = std::make_shared<smtp::ServerOptions>();
  o->hostname = c.server.hostname;
  o->listener_name = l.name;
  o->tls = tls_server_;
  o->tls_mode = l.tls == ListenerTls::kImplicit   ? smtp::ServerTlsMode::kImplicit
                : l.tls == ListenerTls::kStartTls ? smtp::ServerTlsMode::kStartTls
                                                  : smtp::ServerTlsMode::kNone;
  bool submission = l.kind != ListenerKind::kSmtp && l.kind != ListenerKind::kBounce;
  bool bounce_mx = l.kind == ListenerKind::kBounce;
  o->require_auth = submission;
  o->require_tls = submission && o->tls_mode == smtp::ServerTlsMode::kStartTls;
  o->allow_plaintext_auth = c.smtp.allow_plaintext_auth;
  if (!bounce_mx) o->credentials = std::move(credentials);  // the bounce MX offers no AUTH
  o->enable_cram_md5 = c.smtp.cram_md5;
  for (const std::string& text : bounce_mx ? std::vector<std::string>{} : c.smtp.relay_networks) {
    absl::StatusOr<smtp::NetworkRange> range = smtp::NetworkRange::Parse(text);
    if (!range.ok()) return range.status();
    o->relay.relay_networks.push_back(*range);
  }
  if (!submission) {
    o->relay.local_domains = c.bounce.domains;
    o->relay.local_addresses = c.bounce.fbl_addresses;
  }
  o->sink = bounce_mx    ? std::shared_ptr<smtp::MessageSink>(bounces_)
            : submission ? sink_
                         : dispatch_;
  if (!bounce_mx) o->suppression = suppression_;
  o->suppression_action = c.smtp.accept_suppressed ? smtp::SuppressionAction::kAcceptAndMark
                                                   : smtp::SuppressionAction::kReject;
  o->bare_newline = c.smtp.bare_newline_normalize ? smtp::BareNewlinePolicy::kNormalize
                                                  : smtp::BareNewlinePolicy::kReject;
  o->limits.max_command_line = l.limits.max_line_length > 2 ? l.limits.max_line_length - 2 : 1;
  o->limits.max_message_size = l.limits.max_message_size;
  o->limits.max_recipients = static_cast<size_t>(c.smtp.max_recipients);
  o->limits.max_errors = c.smtp.max_errors;
  o->timeouts.command = l.limits.command_timeout;
  o->connections = listener.connections;
  o->auth_failures = listener.auth_failures;
  return o;
}

void Services::Apply(std::shared_ptr<const Config> config) {
  std::vector<smtp::UserAccount> users;
  for (const UserConfig& u : config->users) {
    users.push_back(smtp::UserAccount{
        .name = u.name, .password_hash = u.password_hash, .cram_md5_secret = u.cram_md5_secret});
  }
  std::shared_ptr<smtp::CredentialStore> credentials;
  if (!users.empty()) {
    absl::StatusOr<std::shared_ptr<smtp::CredentialStore>> store =
        smtp::CredentialStore::Create(std::move(users));
    if (!store.ok()) {
      spdlog::error("users: {}; keeping the previous ones", ToStd(store.status().message()));
      std::lock_guard<std::mutex> lock(mu_);
      if (!smtp_options_.empty() && smtp_options_[0] != nullptr) {
        credentials = smtp_options_[0]->credentials;
      }
    } else {
      credentials = std::move(store).value();
    }
  }
  std::vector<std::shared_ptr<const smtp::ServerOptions>> options;
  for (const SmtpListener& l : smtp_) {
    absl::StatusOr<std::shared_ptr<const smtp::ServerOptions>> o =
        SmtpOptions(*config, l, credentials);
    if (!o.ok()) {
      spdlog::error("listener {}: {}", l.config->name, ToStd(o.status().message()));
      return;
    }
    options.push_back(std::move(o).value());
  }
  if (mailboxes_ != nullptr) mailboxes_->Apply(*config, credentials);
  {
    std::lock_guard<std::mutex> lock(mu_);
    smtp_options_ = std::move(options);
    for (int shard = 0; shard < shards_; ++shard) {
      if (rings_[shard] != nullptr)
        rings_[shard]->Post([this, shard] { PushOptionsToShard(shard); });
    }
  }
  if (delivery_ != nullptr && config != config_) delivery_->Apply(config);
  if (keyring_ != nullptr) {
    keyring_->set_public_url(config->api.public_url);
    if (absl::Status st = keyring_->Reload(config->dkim); !st.ok()) {
      spdlog::error("{}; keeping the previous DKIM keys", ToStd(st.message()));
    }
  }
}

std::shared_ptr<const smtp::ServerOptions> Services::current_options(size_t listener) const {
  std::lock_guard<std::mutex> lock(mu_);
  return smtp_options_[listener];
}

void Services::PushOptionsToShard(int shard) {
  if (mailboxes_ != nullptr) mailboxes_->PushToShard(shard);
  std::lock_guard<std::mutex> lock(mu_);
  for (smtp::SmtpServer* server : servers_[shard]) {
    for (size_t i = 0; i < smtp_.size(); ++i) {
      if (server->listener_name() == smtp_[i].config->name) server->set_options(smtp_options_[i]);
    }
  }
}

Task<void> Services::ServeListener(int shard, std::unique_ptr<smtp::SmtpServer> server,
                                   Listener listener) {
  co_await server->Serve(std::move(listener));
  // Serve() has returned: no session refers to the server any more (they
  // hold their own options), so it may go once nobody can push options to it.
  std::lock_guard<std::mutex> lock(mu_);
  std::erase(servers_[shard], server.get());
}

Task<void> Services::RunShard(Ring& ring, int shard) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    rings_[shard] = &ring;
  }
  for (size_t i = 0; i < smtp_.size(); ++i) {
    auto server = std::make_unique<smtp::SmtpServer>(current_options(i));
    {
      std::lock_guard<std::mutex> lock(mu_);
      servers_[shard].push_back(server.get());
    }
    ring.gate().Spawn(
        ServeListener(shard, std::move(server), std::move(smtp_[i].per_shard[shard])));
  }
  for (HttpListener& http : http_) {
    ring.gate().Spawn(http.server->Serve(std::move(http.per_shard[shard])));
  }
  mailboxes_->RunShard(ring, shard);
  if (!config_->delivery.hold) ring.gate().Spawn(delivery_->RunShard(ring, shard));
  co_await StopRequested(ring);
  std::lock_guard<std::mutex> lock(mu_);
  rings_[shard] = nullptr;
}

}  // namespace salvo
