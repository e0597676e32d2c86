// ShardSet: N worker threads, one Ring each (a shard per core). Each shard
// runs the same entry coroutine; shards share no mutable state and talk only
// through Ring::Post(). Stop() asks every shard to stop; Join() waits until
// each shard's entry task and every task in its gate have finished.
#pragma once

#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "engine/loop/ring.h"

namespace salvo {

class ShardSet {
 public:
  using Entry = std::function<Task<void>(Ring& ring, int shard_index)>;

  // Creates the rings (on their own threads) and starts `entry` on each.
  // Fails if any ring cannot be created.
  static absl::StatusOr<std::unique_ptr<ShardSet>> Start(int shards, Entry entry,
                                                         const RingOptions& options = {});
  ~ShardSet();

  int size() const { return static_cast<int>(rings_.size()); }
  Ring& ring(int i) { return *rings_[i]; }
  void Stop();
  void Join();

 private:
  ShardSet() = default;
  std::vector<std::unique_ptr<Ring>> rings_;  // written before each start signal
  std::vector<std::thread> threads_;
};

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (call before
// starting threads so they inherit the mask) and returns the one that arrives.
int BlockTerminationSignals();
int WaitForSignal();

}  // namespace salvo
