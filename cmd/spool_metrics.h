// SpoolMetrics: the spool's sizes and its group commit's totals in /metrics
// (MetricsRegistry::Default()), read from Spool::stats() at each scrape:
//   salvo_queue_recipients            recipients in the queue (any state)
//   salvo_queue_recipients_in_flight  of those, leased to delivery now
//   salvo_queue_messages              stored contents (messages, campaigns)
//   salvo_queue_domains               recipient domains in the index
//   salvo_queue_index_bytes           the in-memory index
//   salvo_queue_expired_total         recipients the spool expired
//   salvo_spool_commit_groups_total   group commits (one write each)
//   salvo_spool_commit_requests_total requests they carried (the ratio is
//                                     the mean group size)
// Scrapes after destruction read 0: the spool may be gone by then.
// Lock order: a scrape takes the spool's lock (stats()) under the registry's,
// so nothing may record a metric while it holds the spool's lock.
#pragma once

#include <memory>
#include <mutex>

#include "queue/spool.h"

namespace salvo {

class SpoolMetrics {
 public:
  explicit SpoolMetrics(const queue::Spool* spool);
  ~SpoolMetrics();
  SpoolMetrics(const SpoolMetrics&) = delete;
  SpoolMetrics& operator=(const SpoolMetrics&) = delete;

  struct Source {
    std::mutex mu;
    const queue::Spool* spool = nullptr;  // guarded by mu; null once detached
  };

 private:
  std::shared_ptr<Source> source_;
};

}  // namespace salvo
