// Group commit: many callers' writes share one synced RocksDB write.
//
// Callers (ring threads, API threads) Submit() a WriteRequest and return at
// once; a single writer thread owns the batching. While one group is being
// written and fsynced, the next one gathers, so under load each fsync carries
// as many requests as arrived during the previous one. The writer thread is
// the only place that blocks on RocksDB: never a ring thread.
//
// Requests whose loss in a crash costs no mail (delivery outcomes: their
// recipients are simply delivered again) may be completed before the log is
// fsynced, if Options::max_sync_delay allows: a group of only such requests
// is written without an fsync, and the log is fsynced at most max_sync_delay
// after that write: by the next group that needs an fsync anyway, by the
// first group written after the delay, or by SyncFn when no group comes.
// Since nobody waits on them, such requests may also linger in the queue up
// to Options::max_linger for company: fewer, larger groups, so fewer wake-ups
// of the writer and of the threads their completions go to.
//
// A request goes through, on the writer thread:
//   Load()     no lock held: point reads it needs (e.g. an address for an event);
//   Prepare()  under the spool lock: checks, then adds its records to the
//              group's batch and makes tentative in-memory changes; an error
//              fails this request alone, and it has then changed nothing;
//   Apply() or Undo()   under the spool lock, once the batch is durable or has
//              failed;
//   Complete() last, no lock held: tells the caller.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "queue/keys.h"

namespace salvo::queue {

// The group's batch, as requests see it (RocksDB-free).
class BatchWriter {
 public:
  virtual void Put(Cf cf, std::string_view key, std::string_view value) = 0;
  virtual void Delete(Cf cf, std::string_view key) = 0;
  // For keys written once and never overwritten (recipients).
  virtual void SingleDelete(Cf cf, std::string_view key) = 0;
  // Deletes every key in [begin, end) (one range tombstone).
  virtual void DeleteRange(Cf cf, std::string_view begin, std::string_view end) = 0;

 protected:
  ~BatchWriter() = default;
};

// Point reads for Load().
class PointReader {
 public:
  // NotFound if absent.
  virtual absl::Status Get(Cf cf, std::string_view key, std::string* value) = 0;

 protected:
  ~PointReader() = default;
};

class WriteRequest {
 public:
  virtual ~WriteRequest() = default;
  virtual void Load(PointReader&) {}
  virtual absl::Status Prepare(BatchWriter& batch) = 0;
  virtual void Apply() = 0;
  virtual void Undo() = 0;
  virtual void Complete(absl::Status status) = 0;
  // Accepts need free space; outcomes and deletions (which free it) do not.
  virtual bool needs_space() const { return false; }
  // About how many bytes the request adds to a batch.
  virtual size_t size_hint() const = 0;
  // true: Complete(OK) may come before the write is fsynced (see above).
  virtual bool sync_may_wait() const { return false; }
};

class GroupCommitter {
 public:
  struct Options {
    size_t max_group_bytes = size_t{8} << 20;
    size_t max_pending_bytes = size_t{256} << 20;
    // Zero: every group is fsynced before its requests complete.
    std::chrono::nanoseconds max_sync_delay{0};
    // How long a queue of only sync_may_wait requests waits for more before
    // it is written (not longer than max_sync_delay).
    std::chrono::nanoseconds max_linger{0};
  };
  using Group = std::vector<std::unique_ptr<WriteRequest>>;
  // Writes one group (on the writer thread) and completes every request in
  // it; `sync`: fsync the write (and with it every unsynced one before it)
  // before completing.
  using CommitFn = std::function<void(Group& group, bool sync)>;
  // Fsyncs what unsynced groups wrote (on the writer thread).
  using SyncFn = std::function<void()>;

  GroupCommitter(Options options, CommitFn commit, SyncFn sync = {});
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Thread-safe. Completes `r` at once with Unavailable if the committer is
  // stopped, or if `r` needs space and too many bytes are already waiting.
  void Submit(std::unique_ptr<WriteRequest> r);
  // Commits everything already submitted, then stops the writer thread.
  void Stop();

  uint64_t groups() const;
  uint64_t requests() const;
  uint64_t unsynced_groups() const;  // written without an fsync of their own

 private:
  using SteadyClock = std::chrono::steady_clock;
  void Run();
  bool MustSync(const Group& group) const;
  // With only sync_may_wait requests queued: waits up to max_linger for more.
  void Linger(std::unique_lock<std::mutex>& lock);

  const Options options_;
  CommitFn commit_;
  SyncFn sync_;
  // When the oldest write not yet fsynced was made (writer thread only).
  std::optional<SteadyClock::time_point> unsynced_since_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<WriteRequest>> queue_;  // guarded by mu_
  size_t pending_bytes_ = 0;                         // guarded by mu_
  bool stopping_ = false;                            // guarded by mu_
  size_t queued_needing_sync_ = 0;                   // guarded by mu_
  bool lingering_ = false;                           // guarded by mu_
  uint64_t groups_ = 0;                              // guarded by mu_
  uint64_t requests_ = 0;                            // guarded by mu_
  uint64_t unsynced_groups_ = 0;                     // guarded by mu_
  std::thread thread_;
};

}  // namespace salvo::queue
