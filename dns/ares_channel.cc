#include "dns/ares_channel.h"

#include <ares.h>
#include <poll.h>

#include <cerrno>
#include <mutex>

#include "absl/status/status.h"
#include "absl/strings/str_join.h"
#include "dns/ip_address.h"
#include "fmt/format.h"

namespace salvo::dns {

// Outlives the channel while ring operations are pending: counts them and
// wakes Close() when the last one is back.
struct AresChannel::Tracker {
  AresChannel* channel = nullptr;  // null once the channel is gone
  size_t ops = 0;                  // ring operations + running Dispatch()
  std::coroutine_handle<> close_waiter;

  // May resume Close()'s caller, which may destroy the channel: callers touch
  // nothing of the channel afterwards.
  static void Release(std::shared_ptr<Tracker> t) {
    if (--t->ops == 0 && t->close_waiter) std::exchange(t->close_waiter, nullptr).resume();
  }
};

// A poll or timer operation on the ring.
class AresChannel::Op final : public Completion {
 public:
  enum class Kind { kPoll, kTimer };
  Op(std::shared_ptr<Tracker> tracker, Kind kind, int fd)
      : tracker_(std::move(tracker)), kind_(kind), fd_(fd) {
    ++tracker_->ops;
  }
  void MarkStale() { stale_ = true; }
  __kernel_timespec* timespec() { return &ts_; }

  void OnCqe(int res, uint32_t) override {
    std::shared_ptr<Tracker> tracker = std::move(tracker_);
    bool live = !stale_ && tracker->channel != nullptr;
    Kind kind = kind_;
    int fd = fd_;
    delete this;
    if (live) {
      if (kind == Kind::kPoll) {
        tracker->channel->OnPollDone(fd, res);
      } else {
        tracker->channel->OnTimerDone();
      }
    }
    Tracker::Release(std::move(tracker));
  }

 private:
  std::shared_ptr<Tracker> tracker_;
  Kind kind_;
  int fd_;
  bool stale_ = false;
  __kernel_timespec ts_{};
};

struct AresChannel::Request {
  AresChannel* channel;
  std::string name;
  RrType type;
  Callback done;
};

std::string AresStatusText(int status) {
  switch (status) {
    case ARES_ETIMEOUT:
      return "no answer from the DNS servers (timeout)";
    case ARES_ECONNREFUSED:
      // c-ares 1.18 reports a SERVFAIL or REFUSED from every server this way.
      return "DNS servers answered SERVFAIL or REFUSED, or refused the connection";
    case ARES_ESERVFAIL:
      return "DNS server answered SERVFAIL";
    case ARES_EREFUSED:
      return "DNS server answered REFUSED";
    case ARES_EDESTRUCTION:
    case ARES_ECANCELLED:
      return "resolver is closing";
    default:
      return fmt::format("DNS query failed: {}", ares_strerror(status));
  }
}

absl::StatusOr<std::string> ServersCsv(const std::vector<std::string>& servers) {
  std::vector<std::string> out;
  for (const std::string& s : servers) {
    std::string_view host = s;
    std::string_view port = "53";
    if (!host.empty() && host.front() == '[') {
      size_t close = host.find(']');
      if (close == std::string_view::npos) return absl::InvalidArgumentError("bad server " + s);
      std::string_view rest = host.substr(close + 1);
      host = host.substr(1, close - 1);
      if (!rest.empty()) {
        if (rest.front() != ':') return absl::InvalidArgumentError("bad server " + s);
        port = rest.substr(1);
      }
    } else if (size_t colon = host.find(':');
               colon != std::string_view::npos && host.find(':', colon + 1) == host.npos) {
      port = host.substr(colon + 1);
      host = host.substr(0, colon);
    }
    auto address = IpAddress::Parse(host);
    int port_number = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || port_number > 65535) port_number = 70000;
      port_number = port_number * 10 + (c - '0');
    }
    if (!address || port.empty() || port_number < 1 || port_number > 65535) {
      return absl::InvalidArgumentError(fmt::format(
          "bad DNS server '{}': want an IP address with an optional port, e.g. 127.0.0.1:5353", s));
    }
    out.push_back(address->is_v4() ? fmt::format("{}:{}", address->ToString(), port_number)
                                   : fmt::format("[{}]:{}", address->ToString(), port_number));
  }
  return absl::StrJoin(out, ",");
}

AresChannel::AresChannel(const ResolverOptions& options, Ring* ring)
    : ring_(ring),
      tracker_(std::make_shared<Tracker>()),
      max_inflight_(options.max_inflight_queries == 0 ? 1 : options.max_inflight_queries) {
  tracker_->channel = this;
}

absl::StatusOr<std::unique_ptr<AresChannel>> AresChannel::Create(const ResolverOptions& options) {
  Ring* ring = Ring::Current();
  if (ring == nullptr) {
    return absl::FailedPreconditionError("AresChannel::Create must run on a shard's ring thread");
  }
  static std::once_flag library_once;
  static int library_status = ARES_SUCCESS;
  std::call_once(library_once, [] { library_status = ares_library_init(ARES_LIB_INIT_ALL); });
  if (library_status != ARES_SUCCESS) {
    return absl::InternalError(fmt::format("ares_library_init: {}", ares_strerror(library_status)));
  }
  std::unique_ptr<AresChannel> channel(new AresChannel(options, ring));
  if (auto st = channel->Init(options); !st.ok()) return st;
  return channel;
}

absl::Status AresChannel::Init(const ResolverOptions& options) {
  if (options.timeout.count() <= 0 || options.tries < 1) {
    return absl::InvalidArgumentError("DNS timeout and tries must be positive");
  }
  std::string csv;
  if (!options.servers.empty()) {
    auto servers = ServersCsv(options.servers);
    if (!servers.ok()) return servers.status();
    csv = std::move(*servers);
  }
  ares_options opts{};
  int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB |
             ARES_OPT_LOOKUPS;
  opts.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
  if (options.edns_payload_size > 0) {
    opts.flags |= ARES_FLAG_EDNS;
    opts.ednspsz = options.edns_payload_size;
    mask |= ARES_OPT_EDNSPSZ;
  }
  opts.timeout = static_cast<int>(options.timeout.count());
  opts.tries = options.tries;
  opts.sock_state_cb = [](void* data, ares_socket_t fd, int readable, int writable) {
    OnSockState(data, fd, readable, writable);
  };
  opts.sock_state_cb_data = this;
  char lookups[] = "b";  // DNS only, never /etc/hosts
  opts.lookups = lookups;
  std::string resolv_conf = options.resolv_conf;
  if (options.servers.empty() && !resolv_conf.empty()) {
    opts.resolvconf_path = resolv_conf.data();
    mask |= ARES_OPT_RESOLVCONF;
  }
  ares_channel channel = nullptr;
  int rc = ares_init_options(&channel, &opts, mask);
  if (rc != ARES_SUCCESS) {
    return absl::InternalError(fmt::format("ares_init_options: {}", ares_strerror(rc)));
  }
  channel_ = channel;
  if (!csv.empty()) {
    rc = ares_set_servers_ports_csv(channel_, csv.c_str());
    if (rc != ARES_SUCCESS) {
      return absl::InvalidArgumentError(
          fmt::format("DNS servers '{}': {}", csv, ares_strerror(rc)));
    }
  }
  return absl::OkStatus();
}

AresChannel::~AresChannel() {
  // Without Close(): answers still pending are dropped undelivered.
  tracker_->channel = nullptr;
  DestroyChannel();
  finished_.clear();
  queued_.clear();
}

void AresChannel::DestroyChannel() {
  if (channel_ != nullptr) {
    ares_destroy(channel_);  // pending queries report ARES_EDESTRUCTION
    channel_ = nullptr;
  }
  for (auto& [fd, watch] : watches_) Abandon(watch.op);
  watches_.clear();
  Abandon(timer_);
  timer_ = nullptr;
}

void AresChannel::Query(std::string name, RrType type, Callback done) {
  auto request = std::make_unique<Request>(Request{this, std::move(name), type, std::move(done)});
  if (closing_) {
    finished_.push_back({std::move(request->done), AresAnswer{ARES_EDESTRUCTION, {}}});
  } else {
    queued_.push_back(std::move(request));
  }
  Dispatch();
}

void AresChannel::Send(std::unique_ptr<Request> request) {
  ++inflight_;
  ++queries_sent_;
  Request* raw = request.release();  // owned by c-ares until OnAnswer
  ares_query(channel_, raw->name.c_str(), 1 /* C_IN */, static_cast<int>(raw->type), &OnAnswer,
             raw);
}

void AresChannel::OnAnswer(void* arg, int status, int, unsigned char* abuf, int alen) {
  std::unique_ptr<Request> request(static_cast<Request*>(arg));
  AresChannel* self = request->channel;
  --self->inflight_;
  AresAnswer answer{status, {}};
  if (abuf != nullptr && alen > 0) answer.bytes.assign(reinterpret_cast<char*>(abuf), alen);
  self->finished_.push_back({std::move(request->done), std::move(answer)});
}

void AresChannel::Dispatch() {
  if (dispatching_) return;  // the running Dispatch() picks up the new work
  dispatching_ = true;
  ++tracker_->ops;
  std::shared_ptr<Tracker> tracker = tracker_;
  for (;;) {
    while (!queued_.empty() && inflight_ < max_inflight_ && channel_ != nullptr) {
      std::unique_ptr<Request> next = std::move(queued_.front());
      queued_.pop_front();
      Send(std::move(next));
    }
    if (finished_.empty()) break;
    std::vector<Finished> batch;
    batch.swap(finished_);
    for (Finished& f : batch) f.done(std::move(f.answer));
  }
  if (channel_ != nullptr) ScheduleTimer();
  dispatching_ = false;
  Tracker::Release(std::move(tracker));  // last: may end Close() and this channel
}

void AresChannel::ScheduleTimer() {
  timeval tv{};
  if (ares_timeout(channel_, nullptr, &tv) == nullptr) return;  // nothing pending
  Deadline want =
      Clock::now() + std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
  if (timer_ != nullptr && timer_deadline_ <= want) return;
  Abandon(timer_);
  timer_ = new Op(tracker_, Op::Kind::kTimer, -1);
  timer_deadline_ = want;
  *timer_->timespec() = ToKernelTimespec(want);
  io_uring_sqe* sqe = ring_->GetSqe();
  io_uring_prep_timeout(sqe, timer_->timespec(), 0, IORING_TIMEOUT_ABS);
  io_uring_sqe_set_data(sqe, static_cast<Completion*>(timer_));
}

void AresChannel::Abandon(Op* op) {
  if (op == nullptr) return;
  op->MarkStale();
  ring_->Cancel(op);
}

void AresChannel::ArmPoll(int fd, Watch& watch) {
  watch.op = new Op(tracker_, Op::Kind::kPoll, fd);
  io_uring_sqe* sqe = ring_->GetSqe();
  io_uring_prep_poll_add(sqe, fd, watch.mask);
  io_uring_sqe_set_data(sqe, static_cast<Completion*>(watch.op));
}

void AresChannel::OnSockState(void* data, int fd, int readable, int writable) {
  auto* self = static_cast<AresChannel*>(data);
  if (!readable && !writable) {  // c-ares is about to close fd
    if (auto it = self->watches_.find(fd); it != self->watches_.end()) {
      self->Abandon(it->second.op);
      self->watches_.erase(it);
    }
    return;
  }
  unsigned mask = (readable ? POLLIN : 0) | (writable ? POLLOUT : 0);
  Watch& watch = self->watches_[fd];
  self->max_watched_ = std::max(self->max_watched_, self->watches_.size());
  if (watch.op != nullptr && watch.mask == mask) return;
  self->Abandon(watch.op);
  watch.mask = mask;
  self->ArmPoll(fd, watch);
}

void AresChannel::OnPollDone(int fd, int res) {
  auto it = watches_.find(fd);
  if (it != watches_.end()) it->second.op = nullptr;
  int read_fd = ARES_SOCKET_BAD;
  int write_fd = ARES_SOCKET_BAD;
  if (res >= 0) {
    if (res & (POLLIN | POLLERR | POLLHUP)) read_fd = fd;
    if (res & (POLLOUT | POLLERR | POLLHUP)) write_fd = fd;
  } else if (res != -ECANCELED) {
    read_fd = write_fd = fd;  // let c-ares meet the error on the socket itself
  }
  if (channel_ != nullptr) ares_process_fd(channel_, read_fd, write_fd);
  // Watch again if c-ares still wants the socket and nothing re-armed it.
  it = watches_.find(fd);
  if (it != watches_.end() && it->second.op == nullptr) ArmPoll(fd, it->second);
  Dispatch();
}

void AresChannel::OnTimerDone() {
  timer_ = nullptr;
  if (channel_ != nullptr) ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  Dispatch();
}

Task<void> AresChannel::Close() {
  if (!closing_) {
    closing_ = true;
    while (!queued_.empty()) {
      finished_.push_back({std::move(queued_.front()->done), AresAnswer{ARES_EDESTRUCTION, {}}});
      queued_.pop_front();
    }
    DestroyChannel();
    Dispatch();
  }
  struct Drained {
    Tracker* tracker;
    bool await_ready() const noexcept { return tracker->ops == 0; }
    void await_suspend(std::coroutine_handle<> h) { tracker->close_waiter = h; }
    void await_resume() const noexcept {}
  };
  std::shared_ptr<Tracker> tracker = tracker_;
  Drained drained{tracker.get()};  // named: see engine/loop/task.h on g++ 12
  co_await drained;
}

}  // namespace salvo::dns
