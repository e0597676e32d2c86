#include "cmd/daemon.h"

#include <signal.h>

#include <coroutine>
#include <filesystem>
#include <optional>
#include <thread>

#include "engine/base/strings.h"
#include "engine/config/config_loader.h"
#include "spdlog/spdlog.h"

namespace salvo {
namespace {

int ShardCount(const Config& config) {
  if (config.server.shards > 0) return config.server.shards;
  unsigned cores = std::thread::hardware_concurrency();
  return cores > 0 ? static_cast<int>(cores) : 1;
}

bool SameListeners(const Config& a, const Config& b) {
  if (a.listeners.size() != b.listeners.size()) return false;
  for (size_t i = 0; i < a.listeners.size(); ++i) {
    const ListenerConfig& x = a.listeners[i];
    const ListenerConfig& y = b.listeners[i];
    if (x.name != y.name || x.kind != y.kind || x.tls != y.tls ||
        x.address.ToString() != y.address.ToString()) {
      return false;
    }
  }
  return true;
}

// Settings a running daemon cannot change: say so rather than ignore them.
void WarnAboutRestartOnlyChanges(const Config& old_config, const Config& new_config) {
  if (old_config.server.data_dir != new_config.server.data_dir) {
    spdlog::warn("server.data_dir changed; it takes effect after a restart");
  }
  if (old_config.server.shards != new_config.server.shards) {
    spdlog::warn("server.shards changed; it takes effect after a restart");
  }
  if (!SameListeners(old_config, new_config)) {
    spdlog::warn("listeners changed; they take effect after a restart");
  }
}

}  // namespace

void ApplyLogLevel(LogLevel level) {
  static constexpr spdlog::level::level_enum kLevels[] = {
      spdlog::level::trace, spdlog::level::debug,    spdlog::level::info, spdlog::level::warn,
      spdlog::level::err,   spdlog::level::critical, spdlog::level::off};
  spdlog::set_level(kLevels[static_cast<int>(level)]);
}

Daemon::Daemon(Config config, std::string config_path)
    : config_path_(std::move(config_path)),
      config_(std::make_shared<const Config>(std::move(config))) {}

Daemon::~Daemon() { Stop(); }

std::shared_ptr<const Config> Daemon::config() const {
  std::lock_guard<std::mutex> lock(mu_);
  return config_;
}

absl::Status Daemon::PrepareDataDir() {
  const std::string& dir = config()->server.data_dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        fmt::format("cannot create data directory {}: {}", dir, ec.message()));
  }
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::FailedPreconditionError(fmt::format("data_dir {} is not a directory", dir));
  }
  return absl::OkStatus();
}

absl::Status Daemon::StartShards() {
  auto shards = ShardSet::Start(ShardCount(*config()),
                                [this](Ring& ring, int shard) { return ShardMain(ring, shard); });
  if (!shards.ok()) return shards.status();
  shards_ = std::move(shards).value();
  return absl::OkStatus();
}

Task<void> Daemon::ShardMain(Ring& ring, int shard) {
  spdlog::debug("shard {} running", shard);
  co_await services_->RunShard(ring, shard);
  spdlog::debug("shard {} stopping", shard);
}

absl::Status Daemon::Start() {
  ApplyLogLevel(config()->server.log_level);
  if (absl::Status s = PrepareDataDir(); !s.ok()) return s;
  if (absl::Status s = ProbeIoUring(); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<Services>> services =
      Services::Open(config(), ShardCount(*config()));
  if (!services.ok()) return services.status();
  services_ = std::move(services).value();
  if (absl::Status s = StartShards(); !s.ok()) return s;
  LogBanner();
  return absl::OkStatus();
}

void Daemon::LogBanner() const {
  std::shared_ptr<const Config> c = config();
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::absolute(c->server.data_dir, ec).lexically_normal();
  spdlog::info("salvo {} on {}: data dir {}, {} shards, config {}", SALVO_VERSION,
               c->server.hostname, ec ? c->server.data_dir : dir.string(), shards_->size(),
               config_path_.empty() ? "(built-in default)" : config_path_);
  for (const ListenerConfig& l : c->listeners) {
    const Services::BoundListener* bound = nullptr;
    for (const Services::BoundListener& b : services_->bound()) {
      if (b.name == l.name) bound = &b;
    }
    if (bound == nullptr) {
      spdlog::warn("listener {}: {} on {} is not served by this version", l.name, ToString(l.kind),
                   l.address.ToString());
      continue;
    }
    spdlog::info("listener {}: {} on {} (tls {})", l.name, ToString(l.kind),
                 bound->address.ToString(), ToString(l.tls));
  }
  spdlog::info("salvo ready");
}

int Daemon::Run() {
  for (;;) {
    int sig = WaitForSignal();
    if (sig != SIGHUP) {
      spdlog::info("received {}; shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
      return sig;
    }
    if (absl::Status s = Reload(); !s.ok()) {
      spdlog::error("config reload failed; keeping the running config:\n{}", ToStd(s.message()));
    }
  }
}

void Daemon::Stop() {
  if (shards_ != nullptr) {
    shards_->Stop();
    shards_->Join();
    shards_.reset();
    spdlog::info("all shards stopped");
  }
  // After the shards: the delivery engine, then the spool.
  services_.reset();
}

absl::Status Daemon::Reload() {
  if (config_path_.empty()) {
    spdlog::info("SIGHUP: running on the built-in default config; nothing to reload");
    return absl::OkStatus();
  }
  ConfigParseResult result = LoadConfigFile(config_path_);
  if (!result.ok()) {
    std::string report = result.ErrorReport(config_path_);
    if (!report.empty() && report.back() == '\n') report.pop_back();
    return absl::InvalidArgumentError(report);
  }
  auto next = std::make_shared<const Config>(std::move(result.config));
  std::shared_ptr<const Config> previous;
  {
    std::lock_guard<std::mutex> lock(mu_);
    previous = std::exchange(config_, next);
  }
  WarnAboutRestartOnlyChanges(*previous, *next);
  ApplyLogLevel(next->server.log_level);
  if (services_ != nullptr) services_->Apply(next);
  spdlog::info("config reloaded from {}", config_path_);
  return absl::OkStatus();
}

}  // namespace salvo
