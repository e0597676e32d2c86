// The child's side of the kill -9 tests (queue_crash_child,
// queue_mailbox_crash_child, queue_campaign_crash_child): how a crash child
// opens the spool it is given and reports to its parent. Its stdout is the
// protocol: one line per acknowledged write, printed after the
// acknowledgement in one write(2), so the parent knows exactly what the
// spool promised before the kill; logs go to stderr.
#pragma once

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "queue/spool.h"

namespace salvo::queue::testing {

// Prints `line` and a newline in one write(2); exits with 3 if it could not.
inline void Say(const std::string& line) {
  std::string out = line + "\n";
  if (::write(STDOUT_FILENO, out.data(), out.size()) != static_cast<ssize_t>(out.size())) _exit(3);
}

// Opens the spool named by `<program> <spool dir>` (small caches, no free
// space floor) with logs sent to stderr; exits with 1, saying why on stderr,
// on a usage or open error.
inline std::unique_ptr<Spool> OpenCrashSpool(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <spool dir>\n", argv[0]);
    std::exit(1);
  }
  spdlog::set_default_logger(spdlog::stderr_logger_mt("stderr"));  // stdout is the protocol
  SpoolOptions options;
  options.path = argv[1];
  options.min_free_bytes = 0;
  options.memtable_bytes = 8 << 20;
  options.block_cache_bytes = 8 << 20;
  auto spool = Spool::Open(options);
  if (!spool.ok()) {
    std::fprintf(stderr, "open failed: %s\n", spool.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*spool);
}

}  // namespace salvo::queue::testing
