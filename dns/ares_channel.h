// AresChannel: one c-ares channel driven by the shard's io_uring; no thread of
// its own (after Seastar's src/net/dns.cc, rewritten for io_uring).
//
//  - c-ares tells which sockets it wants watched through its socket-state
//    callback; each becomes a one-shot IORING_OP_POLL_ADD, re-armed after
//    ares_process_fd() while c-ares still wants the socket;
//  - ares_timeout() becomes one absolute IORING_OP_TIMEOUT, replaced when an
//    earlier one is needed; when it fires, ares_process_fd(BAD, BAD) runs
//    c-ares' retries and timeouts;
//  - c-ares callbacks only record the answer; the recorded callbacks run from
//    Dispatch() once c-ares has returned, so user code never runs inside
//    c-ares and may send new queries or close the channel;
//  - at most max_inflight_queries are on the wire; the rest wait in FIFO order.
//
// Ownership: poll and timer operations are heap objects that delete
// themselves on their final CQE. An abandoned one (socket closed by c-ares,
// timer superseded, channel destroyed) is marked stale and cancelled; it
// never touches the channel again. Close() waits until every one of them has
// come back, so nothing is left in the ring when the shard stops.
// Single-threaded: create, use and destroy on the ring's thread.
#pragma once

#include <coroutine>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "dns/message.h"
#include "dns/resolver_options.h"
#include "engine/base/deadline.h"
#include "engine/loop/ring.h"
#include "engine/loop/task.h"

struct ares_channeldata;

namespace salvo::dns {

struct AresAnswer {
  int status = 0;     // c-ares status (ARES_SUCCESS, ARES_ETIMEOUT, ...)
  std::string bytes;  // the answer as received; empty when there is none
};

// ares_strerror() text plus a hint: "Timeout while contacting DNS servers".
std::string AresStatusText(int status);

// "127.0.0.1:5353,[::1]:53" from ResolverOptions::servers; InvalidArgument on
// a malformed entry.
absl::StatusOr<std::string> ServersCsv(const std::vector<std::string>& servers);

class AresChannel {
 public:
  using Callback = absl::AnyInvocable<void(AresAnswer)>;

  // Must run on the thread of a running Ring.
  static absl::StatusOr<std::unique_ptr<AresChannel>> Create(const ResolverOptions& options);
  ~AresChannel();
  AresChannel(const AresChannel&) = delete;
  AresChannel& operator=(const AresChannel&) = delete;

  // Asks (name, type) of the DNS servers. `done` runs exactly once on this
  // thread, possibly before Query() returns (e.g. when closing).
  void Query(std::string name, RrType type, Callback done);

  // Fails the queries still pending (ARES_EDESTRUCTION), closes the sockets
  // and returns once every ring operation has completed.
  Task<void> Close();

  size_t inflight() const { return inflight_; }
  size_t queued() const { return queued_.size(); }
  size_t watched_sockets() const { return watches_.size(); }
  size_t max_watched_sockets() const { return max_watched_; }
  uint64_t queries_sent() const { return queries_sent_; }

 private:
  struct Request;
  struct Finished {
    Callback done;
    AresAnswer answer;
  };
  struct Tracker;
  class Op;
  struct Watch {
    unsigned mask = 0;
    Op* op = nullptr;
  };

  explicit AresChannel(const ResolverOptions& options, Ring* ring);
  absl::Status Init(const ResolverOptions& options);

  static void OnSockState(void* data, int fd, int readable, int writable);
  static void OnAnswer(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
  void Send(std::unique_ptr<Request> request);
  void Dispatch();
  void ScheduleTimer();
  void ArmPoll(int fd, Watch& watch);
  void Abandon(Op* op);
  void OnPollDone(int fd, int res);
  void OnTimerDone();
  void DestroyChannel();

  Ring* ring_;
  ares_channeldata* channel_ = nullptr;
  std::shared_ptr<Tracker> tracker_;
  absl::flat_hash_map<int, Watch> watches_;
  Op* timer_ = nullptr;
  Deadline timer_deadline_{};
  std::deque<std::unique_ptr<Request>> queued_;
  std::vector<Finished> finished_;
  size_t max_inflight_;
  size_t inflight_ = 0;
  size_t max_watched_ = 0;
  uint64_t queries_sent_ = 0;
  bool dispatching_ = false;
  bool closing_ = false;
};

}  // namespace salvo::dns
