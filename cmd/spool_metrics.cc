#include "cmd/spool_metrics.h"

#include <functional>
#include <string_view>

#include "engine/base/metrics.h"

namespace salvo {
namespace {

using Field = double (*)(const queue::SpoolStats&);

std::function<double()> Reader(std::shared_ptr<SpoolMetrics::Source> source, Field field) {
  return [source = std::move(source), field] {
    std::lock_guard<std::mutex> lock(source->mu);
    return source->spool != nullptr ? field(source->spool->stats()) : 0.0;
  };
}

}  // namespace

SpoolMetrics::SpoolMetrics(const queue::Spool* spool) : source_(std::make_shared<Source>()) {
  source_->spool = spool;
  MetricsRegistry& r = MetricsRegistry::Default();
  auto gauge = [&](std::string_view name, std::string_view help, Field field) {
    r.AddGaugeCallback(name, help, Reader(source_, field));
  };
  auto counter = [&](std::string_view name, std::string_view help, Field field) {
    r.AddCounterCallback(name, help, Reader(source_, field));
  };
  gauge("salvo_queue_recipients",
        "Recipients in the queue: waiting, deferred, paused or being delivered.",
        [](const queue::SpoolStats& s) { return double(s.queued); });
  gauge("salvo_queue_recipients_in_flight", "Queued recipients leased to delivery right now.",
        [](const queue::SpoolStats& s) { return double(s.in_flight); });
  gauge("salvo_queue_messages", "Stored message and campaign contents with recipients left.",
        [](const queue::SpoolStats& s) { return double(s.contents); });
  gauge("salvo_queue_domains", "Recipient domains in the queue's index.",
        [](const queue::SpoolStats& s) { return double(s.domains); });
  gauge("salvo_queue_index_bytes", "Bytes of the queue's in-memory index.",
        [](const queue::SpoolStats& s) { return double(s.index_bytes); });
  counter("salvo_queue_expired_total",
          "Recipients the spool expired (older than the maximum age) since start.",
          [](const queue::SpoolStats& s) { return double(s.expired); });
  counter("salvo_spool_commit_groups_total",
          "Group commits to the spool since start (one RocksDB write each).",
          [](const queue::SpoolStats& s) { return double(s.groups); });
  counter("salvo_spool_commit_requests_total",
          "Write requests (accepts, outcomes, ...) those group commits carried.",
          [](const queue::SpoolStats& s) { return double(s.requests); });
}

SpoolMetrics::~SpoolMetrics() {
  std::lock_guard<std::mutex> lock(source_->mu);
  source_->spool = nullptr;
}

}  // namespace salvo
