#include "engine/loop/shard.h"

#include <signal.h>

#include <future>

#include "engine/base/thread_name.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace salvo {

absl::StatusOr<std::unique_ptr<ShardSet>> ShardSet::Start(int shards, Entry entry,
                                                          const RingOptions& options) {
  std::unique_ptr<ShardSet> set(new ShardSet());
  set->rings_.resize(shards);
  std::vector<std::promise<absl::Status>> ready(shards);
  for (int i = 0; i < shards; ++i) {
    std::future<absl::Status> f = ready[i].get_future();
    set->threads_.emplace_back([&set_ref = *set, i, entry, options, p = &ready[i]]() mutable {
      NameCurrentThread(fmt::format("ring-{}", i));
      // The ring is created on the thread that submits to it (SINGLE_ISSUER).
      auto ring = Ring::Create(options);
      if (!ring.ok()) {
        p->set_value(ring.status());
        return;
      }
      Ring* r = ring->get();
      set_ref.rings_[i] = std::move(*ring);  // owned by the set until after Join()
      p->set_value(absl::OkStatus());
      r->Run(entry(*r, i));
    });
    absl::Status s = f.get();
    if (!s.ok()) {
      set->Stop();
      set->Join();
      return s;
    }
  }
  return set;
}

ShardSet::~ShardSet() {
  Stop();
  Join();
}

void ShardSet::Stop() {
  for (auto& r : rings_) {
    if (r != nullptr) r->RequestStop();
  }
}

void ShardSet::Join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

int BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace salvo
