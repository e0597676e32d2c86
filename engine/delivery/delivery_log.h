// DeliveryLog: one JSON object per line for every delivery outcome, written
// beside the spool's events (which stay the source of truth for reports):
// a file operators can tail, grep and ship. Size-rotated: when the file
// passes max_bytes it becomes <path>.1 (older ones shift up to .keep) and a
// new one starts.
//
// Ring threads never write to the file: Append() only copies the line into
// a buffer under a mutex; a writer thread of its own flushes it (about every
// 100 ms, or at once past 1 MiB) and rotates. Lines are lost only if the
// process dies before a flush (they are a log; the events are durable).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/statusor.h"

namespace salvo::delivery {

struct DeliveryLogOptions {
  std::string path;  // empty: no log
  uint64_t max_bytes = 256ull << 20;
  int keep = 5;  // rotated files kept
};

class DeliveryLog {
 public:
  static absl::StatusOr<std::unique_ptr<DeliveryLog>> Open(DeliveryLogOptions options);
  ~DeliveryLog();  // flushes what is buffered
  DeliveryLog(const DeliveryLog&) = delete;
  DeliveryLog& operator=(const DeliveryLog&) = delete;

  // Thread-safe; `json` is one object without a line break.
  void Append(std::string_view json);
  // Blocks until what was appended so far is written (tests, shutdown).
  void Flush();

 private:
  explicit DeliveryLog(DeliveryLogOptions options) : options_(std::move(options)) {}
  void Run();
  void WriteOut(const std::string& bytes);
  void Rotate();

  DeliveryLogOptions options_;
  int fd_ = -1;
  uint64_t size_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable flushed_cv_;
  std::string buffer_;     // guarded by mu_
  uint64_t appended_ = 0;  // lines appended, guarded by mu_
  uint64_t written_ = 0;   // lines written, guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace salvo::delivery
