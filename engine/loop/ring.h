// Ring: one io_uring and the loop that drives it, owned by one thread (a shard).
//
// Design (after liburing's examples and Seastar's reactor):
//  - every SQE's user_data points at a Completion; its OnCqe() runs on the
//    ring's thread when the CQE is reaped (user_data 0 marks CQEs to ignore,
//    e.g. linked timeouts);
//  - I/O deadlines are IORING_OP_LINK_TIMEOUT linked to the operation, with an
//    absolute CLOCK_MONOTONIC time, so a silent peer costs no extra wake-ups;
//  - work from other threads arrives through Post(): a mutex-guarded queue and
//    an eventfd whose read stays armed on the ring; a thread that completes
//    many operations at once (the spool's group commit) wraps them in a
//    PostBatch, so each ring is woken once for all of them; the ring's own
//    thread posts to a local queue that the loop runs, with no wake-up at all;
//  - a provided-buffer ring (see ProvidedBuffers) feeds receives, so an idle
//    connection holds no receive buffer of its own;
//  - the ring is created with SINGLE_ISSUER|DEFER_TASKRUN where the kernel has
//    them (6.1+), and without otherwise;
//  - an object that frees itself on its last CQE (a closed Listener's accept
//    state) holds the ring until then (Hold/Release), so Run() reaps that CQE
//    before it returns instead of leaking the object.
// Minimum kernel: 5.19 (multishot accept, cancel by fd, buffer rings); the
// start-up probe (ProbeIoUring) names what is missing.
#pragma once

#include <liburing.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/base/deadline.h"
#include "engine/base/unique_fd.h"
#include "engine/loop/gate.h"
#include "engine/loop/task.h"

namespace salvo {

class ProvidedBuffers;

// Something waiting for a CQE. Lives until its last CQE has arrived.
struct Completion {
  virtual void OnCqe(int res, uint32_t flags) = 0;

 protected:
  ~Completion() = default;
};

struct RingOptions {
  unsigned entries = 1024;      // SQ size; CQ is twice that
  unsigned recv_buffers = 256;  // provided buffers, a power of two
  unsigned recv_buffer_size = 16384;
};

// Says which io_uring features this kernel lacks; OK if Salvo can run.
absl::Status ProbeIoUring();

class Ring {
 public:
  static absl::StatusOr<std::unique_ptr<Ring>> Create(const RingOptions& options = {});
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  // The ring of the calling thread (set while Run() is active), or nullptr.
  static Ring* Current();

  // Returns an SQE, submitting first if the SQ is full. Never null.
  io_uring_sqe* GetSqe();
  // Makes room for `n` consecutive SQEs (for linked pairs).
  void Reserve(unsigned n);
  // Prepares `sqe` (already filled) with `c` and, unless `deadline` is Never,
  // links an absolute timeout to it.
  void Arm(io_uring_sqe* sqe, Completion* c, Deadline deadline);

  // Cancels every operation on `fd` that is in flight when the cancellation
  // is submitted (IORING_ASYNC_CANCEL_FD|ALL); they end with -ECANCELED. An
  // operation started after that is not affected: to stop a connection's
  // session whatever it is doing, use Socket::Cancel(), which also ends the
  // next operation if none is in flight.
  void CancelFd(int fd);
  // Cancels the operation whose user_data is `c`.
  void Cancel(Completion* c);

  // Runs `main` to completion, with every task it spawns through gate().
  // Returns once `main` has returned, the gate is empty and no hold is left
  // (holds are waited for at most 1 s, then reported and abandoned).
  void Run(Task<void> main);

  // Keeps Run() reaping after `main` and the gate are done, for an object
  // that frees itself when its last CQE arrives. Release() once freed.
  void Hold() { ++holds_; }
  void Release() { --holds_; }
  size_t holds() const { return holds_; }

  // Thread-safe: runs `fn` on this ring's thread soon. Posts from one thread
  // run in the order they were made.
  void Post(absl::AnyInvocable<void()> fn);

  // Wake-up batching, for when the ring's pace is set elsewhere (a backlog
  // of DKIM signatures that every session on it waits behind): while
  // `hold()` is true as the ring goes to sleep, it sleeps until `events`
  // completions are ready or `max_wait` has passed, whichever is first,
  // instead of waking for the first one. Fewer wake-ups, each handling more,
  // at the cost of up to `max_wait` of latency for everything on the ring
  // while hold() says so (a timer's expiry, e.g. SleepFor, still ends the
  // sleep at once: io_uring ends every wait when a timeout completes).
  // hold() runs on the ring's thread right before each sleep that could be
  // batched (none while a ClientSession is open), so true means this sleep
  // is: keep it to a few loads.
  struct WakeBatching {
    unsigned events = 64;
    std::chrono::microseconds max_wait{1000};
    absl::AnyInvocable<bool()> hold;
  };
  // Ring thread only. nullopt: wake for the first completion (the default).
  void SetWakeBatching(std::optional<WakeBatching> batching);

  // Marks a client's connection (an SMTP, POP3, IMAP or HTTP session) open
  // on the current ring for its lifetime: while one is, the ring never
  // batches its wake-ups, since a client waits for every reply. Create and
  // destroy on the ring's thread.
  class ClientSession {
   public:
    ClientSession() : ring_(Current()) {
      if (ring_ != nullptr) ++ring_->client_sessions_;
    }
    ~ClientSession() {
      if (ring_ != nullptr) --ring_->client_sessions_;
    }
    ClientSession(const ClientSession&) = delete;
    ClientSession& operator=(const ClientSession&) = delete;

   private:
    Ring* ring_;
  };

  // While a PostBatch is alive on a thread, that thread's Post() calls to
  // other rings are held and handed over when it ends: one lock and at most
  // one wake-up per ring for the whole batch. Batches nest (the outermost
  // hands over). Keep them short: held work waits for the batch's end.
  class PostBatch {
   public:
    PostBatch();
    ~PostBatch();
    PostBatch(const PostBatch&) = delete;
    PostBatch& operator=(const PostBatch&) = delete;

   private:
    friend class Ring;
    void Add(Ring* ring, absl::AnyInvocable<void()> fn);

    bool outermost_;
    std::vector<std::pair<Ring*, std::vector<absl::AnyInvocable<void()>>>> held_;
  };

  // Asks the shard to stop: sets stop_requested() and runs the stop callbacks
  // (on the ring's thread). Thread-safe.
  void RequestStop();
  bool stop_requested() const { return stop_requested_; }

  // A callback run once when stop is requested; unregisters on destruction.
  class StopCallback {
   public:
    StopCallback(Ring& ring, absl::AnyInvocable<void()> fn);
    ~StopCallback();
    StopCallback(const StopCallback&) = delete;
    StopCallback& operator=(const StopCallback&) = delete;

   private:
    friend class Ring;
    Ring& ring_;
    absl::AnyInvocable<void()> fn_;
    StopCallback* prev_ = nullptr;
    StopCallback* next_ = nullptr;
  };

  Gate& gate() { return gate_; }
  ProvidedBuffers& buffers() { return *buffers_; }
  io_uring* raw() { return &ring_; }
  bool single_issuer() const { return single_issuer_; }

 private:
  Ring() = default;
  void ArmWakeRead();
  // Appends to the cross-thread queue; wakes the ring if it was empty.
  void Enqueue(std::vector<absl::AnyInvocable<void()>>& fns);
  void Wake();  // makes the armed eventfd read complete
  void DrainPosted();
  // Runs what this ring's own thread posted before the call (not what those
  // post in turn: the loop reaps I/O in between).
  void RunLocalPosts();
  void RunStopCallbacks();
  void Reap();
  // Submits, then waits for one completion, or as SetWakeBatching says.
  int SubmitAndSleep();

  struct WakeRead : Completion {
    Ring* ring;
    uint64_t value = 0;
    void OnCqe(int res, uint32_t flags) override;
  };

  io_uring ring_{};
  bool ring_ok_ = false;
  bool single_issuer_ = false;
  bool running_ = false;
  bool stop_requested_ = false;
  bool stop_callbacks_ran_ = false;
  size_t holds_ = 0;
  UniqueFd wake_fd_;
  WakeRead wake_read_;
  std::mutex post_mu_;
  std::vector<absl::AnyInvocable<void()>> posted_;  // guarded by post_mu_
  std::vector<absl::AnyInvocable<void()>> running_posted_;
  std::vector<absl::AnyInvocable<void()>> local_posted_;  // ring thread only
  std::vector<absl::AnyInvocable<void()>> running_local_;
  std::optional<WakeBatching> wake_batching_;  // ring thread only
  size_t client_sessions_ = 0;                 // ring thread only
  StopCallback* stop_head_ = nullptr;
  Gate gate_;
  std::unique_ptr<ProvidedBuffers> buffers_;
};

}  // namespace salvo
