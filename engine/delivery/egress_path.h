// EgressPath: one source address (with its EHLO name) towards one site. It
// holds the site's ready batches that were assigned to this source, and the
// connections opened from it (ConnectionPool keeps the idle ones). The site
// counts connections across its paths against its cap.
// Single-threaded: the site's shard.
#pragma once

#include <deque>
#include <optional>

#include "engine/delivery/connection_pool.h"
#include "engine/delivery/lease.h"
#include "engine/delivery/source_picker.h"

namespace salvo::delivery {

class Site;

class EgressPath {
 public:
  EgressPath(Site& site, Source source) : site_(site), source_(std::move(source)) {}

  Site& site() const { return site_; }
  const Source& source() const { return source_; }

  void Push(Batch b) { ready_.push_back(std::move(b)); }
  void PushFront(Batch b) { ready_.push_front(std::move(b)); }
  std::optional<Batch> Take();
  std::deque<Batch>& ready() { return ready_; }
  // Batches not yet spoken for by a woken or starting session.
  size_t Unclaimed() const;

  ConnectionPool& idle() { return idle_; }
  int connections = 0;   // open or being opened from this path
  int starting = 0;      // sessions not yet taking work (connecting, or woken)
  bool retired = false;  // no longer in the site's source pool

 private:
  Site& site_;
  Source source_;
  std::deque<Batch> ready_;
  ConnectionPool idle_;
};

}  // namespace salvo::delivery
