// Daemon: the running `salvo serve` process. It owns the current Config, the
// data directory and the ShardSet (one io_uring worker per core), and turns
// process signals into actions: SIGHUP reloads the config file, SIGINT and
// SIGTERM stop the shards and return.
//
// Lifecycle (each step a hook where later subsystems are wired in):
//   BlockTerminationSignals()        in main, before any thread exists
//   Start()  PrepareDataDir()        data_dir and its sub-directories
//            ProbeIoUring()          fail fast on a kernel without what we need
//            Services::Open()        spool, TLS, VERP secret, delivery
//                                    engine, SMTP listeners bound
//            StartShards()           ShardMain() on every shard
//   Run()    WaitForSignal() loop    SIGHUP -> Reload()
//   Stop()   ShardSet::Stop/Join     every shard's tasks have finished
//            ~Services               engine, then spool: after the shards
//
// Invariants: the Config in force is swapped whole under a mutex; shards read
// a snapshot (config()). A failed reload changes nothing.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "cmd/services.h"
#include "engine/config/config.h"
#include "engine/loop/ring.h"
#include "engine/loop/shard.h"
#include "engine/loop/task.h"

namespace salvo {

class Daemon {
 public:
  // `config_path` is empty when running on the embedded default config.
  Daemon(Config config, std::string config_path);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Prepares the process and starts the shards; logs the startup banner.
  // Termination signals must already be blocked in every thread.
  absl::Status Start();
  // Serves until SIGINT or SIGTERM; returns the signal that ended it.
  int Run();
  // Stops every shard and waits for them. Idempotent.
  void Stop();

  // Re-reads the config file. On success the new config is in force and OK is
  // returned; on failure the old one stays and the error report is returned.
  absl::Status Reload();

  std::shared_ptr<const Config> config() const;

 private:
  absl::Status PrepareDataDir();
  absl::Status StartShards();
  void LogBanner() const;
  // The work of one shard: Services::RunShard until the shard is asked to stop.
  Task<void> ShardMain(Ring& ring, int shard);

  const std::string config_path_;
  mutable std::mutex mu_;
  std::shared_ptr<const Config> config_;  // guarded by mu_
  std::unique_ptr<Services> services_;    // before shards_: destroyed after them
  std::unique_ptr<ShardSet> shards_;
};

// Applies `level` to spdlog's default logger.
void ApplyLogLevel(LogLevel level);

}  // namespace salvo
