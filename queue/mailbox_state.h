// Mailbox::State: the bounce mailbox behind its public face (internal to
// queue/mailbox*.cc).
//
// Locking: `mu` guards the index, the group overlay and the id counters; it
// is taken on its own by API threads (short holds) and, inside a group
// commit, by the spool's writer thread after the spool's `mu` (so never hold
// `mu` while calling into the spool). `watch_mu` guards the watchers and is
// held while they run, so that Unwatch waits for a running one; it is
// recursive so that a watcher may Unwatch from inside its callback.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/base/worker_pool.h"
#include "queue/mailbox.h"
#include "queue/mailbox_index.h"
#include "queue/rocks.h"
#include "queue/spool_core.h"

namespace salvo::queue {

struct Mailbox::State {
  State(Spool::Core& c, const MailboxOptions& o)
      : core(c), options(o), max_message_bytes(o.max_message_bytes) {}

  Spool::Core& core;
  MailboxOptions options;
  std::atomic<uint64_t> max_message_bytes;

  mutable std::mutex mu;
  MailboxIndex index;        // guarded by mu
  MailboxPending pending;    // guarded by mu
  MailboxCounters counters;  // guarded by mu

  struct WatchSlot {
    std::string folder;
    std::shared_ptr<Watcher> on_event;
  };
  std::recursive_mutex watch_mu;
  std::map<uint64_t, WatchSlot> watchers;  // guarded by watch_mu
  uint64_t next_watch = 1;                 // guarded by watch_mu

  std::unique_ptr<WorkerPool> readers;

  // Runs the watchers of each event's folder (no other lock held).
  void Dispatch(const std::vector<mailbox::FolderEvent>& events);
};

// Loading at open (mailbox_open.cc).
absl::Status LoadMailbox(RocksDb& db, Mailbox::State& state);
absl::Status CreateSystemFolders(RocksDb& db, Mailbox::State& state);
MailboxAudit AuditMailbox(RocksDb& db, Mailbox::State& state);

}  // namespace salvo::queue
