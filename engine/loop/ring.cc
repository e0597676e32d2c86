#include "engine/loop/ring.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/base/errno_status.h"
#include "engine/loop/provided_buffers.h"
#include "spdlog/spdlog.h"

namespace salvo {
namespace {

thread_local Ring* current_ring = nullptr;
thread_local Ring::PostBatch* current_batch = nullptr;

// Absolute CLOCK_MONOTONIC timeouts, one slot per SQE index: the kernel reads
// the timespec at submission, and an SQE slot is not reused before that.
constexpr unsigned kMaxEntries = 4096;
thread_local std::array<__kernel_timespec, kMaxEntries * 2> timeout_slots;

Task<void> RunMain(Task<void> main, bool* done) {
  co_await std::move(main);
  *done = true;
}

}  // namespace

absl::Status ProbeIoUring() {
  io_uring ring;
  int rc = io_uring_queue_init(8, &ring, 0);
  if (rc < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("io_uring is not available (io_uring_queue_init: ", std::strerror(-rc),
                     "); Salvo needs Linux 5.19 or later with io_uring enabled "
                     "(sysctl kernel.io_uring_disabled=0)"));
  }
  std::vector<std::string> missing;
  io_uring_probe* probe = io_uring_get_probe_ring(&ring);
  if (probe == nullptr) {
    missing.push_back("IORING_REGISTER_PROBE");
  } else {
    struct Op {
      int op;
      const char* name;
    };
    static constexpr Op kNeeded[] = {
        {IORING_OP_ACCEPT, "IORING_OP_ACCEPT"},
        {IORING_OP_CONNECT, "IORING_OP_CONNECT"},
        {IORING_OP_RECV, "IORING_OP_RECV"},
        {IORING_OP_SEND, "IORING_OP_SEND"},
        {IORING_OP_SENDMSG, "IORING_OP_SENDMSG"},
        {IORING_OP_READ, "IORING_OP_READ"},
        {IORING_OP_TIMEOUT, "IORING_OP_TIMEOUT"},
        {IORING_OP_LINK_TIMEOUT, "IORING_OP_LINK_TIMEOUT"},
        {IORING_OP_ASYNC_CANCEL, "IORING_OP_ASYNC_CANCEL"},
        {IORING_OP_POLL_ADD, "IORING_OP_POLL_ADD"},
        {IORING_OP_PROVIDE_BUFFERS, "IORING_OP_PROVIDE_BUFFERS"},
    };
    for (const Op& op : kNeeded) {
      if (!io_uring_opcode_supported(probe, op.op)) missing.push_back(op.name);
    }
    io_uring_free_probe(probe);
  }
  if (!(ring.features & IORING_FEAT_NODROP)) missing.push_back("IORING_FEAT_NODROP");
  if (!(ring.features & IORING_FEAT_EXT_ARG)) missing.push_back("IORING_FEAT_EXT_ARG");

  // Buffer rings (5.19): register a one-entry ring and take it away again.
  {
    void* mem = nullptr;
    if (posix_memalign(&mem, 4096, 4096) == 0) {
      io_uring_buf_reg reg{};
      reg.ring_addr = reinterpret_cast<uint64_t>(mem);
      reg.ring_entries = 1;
      reg.bgid = 999;
      if (io_uring_register_buf_ring(&ring, &reg, 0) < 0) {
        missing.push_back("IORING_REGISTER_PBUF_RING (provided buffer rings)");
      } else {
        io_uring_unregister_buf_ring(&ring, 999);
      }
      free(mem);
    }
  }
  // Cancel by fd (5.19): cancelling nothing answers -ENOENT where supported.
  {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_cancel_fd(sqe, 0, IORING_ASYNC_CANCEL_ALL);
    io_uring_submit(&ring);
    io_uring_cqe* cqe = nullptr;
    if (io_uring_wait_cqe(&ring, &cqe) == 0) {
      if (cqe->res == -EINVAL) missing.push_back("IORING_ASYNC_CANCEL_FD");
      io_uring_cqe_seen(&ring, cqe);
    }
  }
  io_uring_queue_exit(&ring);
  if (!missing.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("this kernel's io_uring lacks ",
                                                      absl::StrJoin(missing, ", "),
                                                      "; Salvo needs Linux 5.19 or later"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Ring>> Ring::Create(const RingOptions& options) {
  if (options.entries > kMaxEntries) return absl::InvalidArgumentError("ring entries > 4096");
  std::unique_ptr<Ring> r(new Ring());
  io_uring_params p{};
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE;
  p.cq_entries = options.entries * 4;
  int rc = io_uring_queue_init_params(options.entries, &r->ring_, &p);
  if (rc == -EINVAL) {
    // Kernels before 6.1: plain ring, task work run by interrupts.
    p = {};
    p.flags = IORING_SETUP_CQSIZE;
    p.cq_entries = options.entries * 4;
    rc = io_uring_queue_init_params(options.entries, &r->ring_, &p);
  } else if (rc == 0) {
    r->single_issuer_ = true;
  }
  if (rc < 0) return ErrnoStatus(rc, "io_uring_queue_init");
  r->ring_ok_ = true;

  int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) return ErrnoStatus(errno, "eventfd");
  r->wake_fd_.Reset(efd);
  r->wake_read_.ring = r.get();

  auto buffers = ProvidedBuffers::Create(&r->ring_, options.recv_buffers, options.recv_buffer_size);
  if (!buffers.ok()) return buffers.status();
  r->buffers_ = std::move(buffers).value();
  return r;
}

Ring::~Ring() {
  buffers_.reset();
  if (ring_ok_) io_uring_queue_exit(&ring_);
}

Ring* Ring::Current() { return current_ring; }

io_uring_sqe* Ring::GetSqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  while (sqe == nullptr) {
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  return sqe;
}

void Ring::Reserve(unsigned n) {
  if (io_uring_sq_space_left(&ring_) < n) io_uring_submit(&ring_);
}

void Ring::Arm(io_uring_sqe* sqe, Completion* c, Deadline deadline) {
  io_uring_sqe_set_data(sqe, c);
  if (IsNever(deadline)) return;
  sqe->flags |= IOSQE_IO_LINK;
  io_uring_sqe* t = io_uring_get_sqe(&ring_);
  // Callers Reserve(2) first, so the pair is never split across submits.
  if (t == nullptr) {
    sqe->flags &= ~IOSQE_IO_LINK;
    spdlog::error("io_uring SQ full while linking a timeout; operation runs without deadline");
    return;
  }
  __kernel_timespec& ts = timeout_slots[t - ring_.sq.sqes];
  ts = ToKernelTimespec(deadline);
  io_uring_prep_link_timeout(t, &ts, IORING_TIMEOUT_ABS);
  io_uring_sqe_set_data64(t, 0);
}

void Ring::CancelFd(int fd) {
  io_uring_sqe* sqe = GetSqe();
  io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
  io_uring_sqe_set_data64(sqe, 0);
}

void Ring::Cancel(Completion* c) {
  io_uring_sqe* sqe = GetSqe();
  io_uring_prep_cancel(sqe, c, 0);
  io_uring_sqe_set_data64(sqe, 0);
}

void Ring::ArmWakeRead() {
  io_uring_sqe* sqe = GetSqe();
  io_uring_prep_read(sqe, wake_fd_.get(), &wake_read_.value, sizeof(wake_read_.value), 0);
  io_uring_sqe_set_data(sqe, static_cast<Completion*>(&wake_read_));
}

void Ring::WakeRead::OnCqe(int res, uint32_t) {
  if (res < 0 && res != -EAGAIN && res != -EINTR && res != -ECANCELED) {
    spdlog::error("shard wake-up read failed: {}", std::strerror(-res));
  }
  ring->DrainPosted();
  ring->ArmWakeRead();
}

void Ring::Post(absl::AnyInvocable<void()> fn) {
  if (current_ring == this) {
    local_posted_.push_back(std::move(fn));
    return;
  }
  if (current_batch != nullptr) {  // always the outermost batch
    current_batch->Add(this, std::move(fn));
    return;
  }
  bool was_empty;
  {
    std::lock_guard<std::mutex> lock(post_mu_);
    was_empty = posted_.empty();
    posted_.push_back(std::move(fn));
  }
  if (was_empty) Wake();
}

void Ring::Enqueue(std::vector<absl::AnyInvocable<void()>>& fns) {
  bool was_empty;
  {
    std::lock_guard<std::mutex> lock(post_mu_);
    was_empty = posted_.empty();
    if (was_empty) {
      posted_.swap(fns);
    } else {
      for (auto& fn : fns) posted_.push_back(std::move(fn));
    }
  }
  fns.clear();
  if (was_empty) Wake();
}

void Ring::Wake() {
  uint64_t one = 1;
  ssize_t n = ::write(wake_fd_.get(), &one, sizeof(one));
  (void)n;  // EAGAIN means the counter is already non-zero: a wake is pending
}

void Ring::DrainPosted() {
  {
    std::lock_guard<std::mutex> lock(post_mu_);
    running_posted_.swap(posted_);
  }
  for (auto& fn : running_posted_) fn();
  running_posted_.clear();
}

void Ring::RunLocalPosts() {
  running_local_.swap(local_posted_);
  for (auto& fn : running_local_) fn();
  running_local_.clear();
}

Ring::PostBatch::PostBatch() : outermost_(current_batch == nullptr) {
  if (outermost_) current_batch = this;
}

Ring::PostBatch::~PostBatch() {
  if (!outermost_) return;
  current_batch = nullptr;
  for (auto& [ring, fns] : held_) ring->Enqueue(fns);
}

void Ring::PostBatch::Add(Ring* ring, absl::AnyInvocable<void()> fn) {
  auto it = std::find_if(held_.begin(), held_.end(),
                         [ring](const auto& held) { return held.first == ring; });
  if (it == held_.end()) {
    held_.emplace_back(ring, std::vector<absl::AnyInvocable<void()>>{});
    it = held_.end() - 1;
  }
  it->second.push_back(std::move(fn));
}

void Ring::RequestStop() {
  Post([this] {
    stop_requested_ = true;
    RunStopCallbacks();
  });
}

void Ring::RunStopCallbacks() {
  stop_callbacks_ran_ = true;
  while (stop_head_ != nullptr) {
    StopCallback* cb = stop_head_;
    stop_head_ = cb->next_;
    if (stop_head_) stop_head_->prev_ = nullptr;
    cb->next_ = cb->prev_ = nullptr;
    auto fn = std::move(cb->fn_);
    cb->fn_ = nullptr;
    if (fn) fn();
  }
}

Ring::StopCallback::StopCallback(Ring& ring, absl::AnyInvocable<void()> fn)
    : ring_(ring), fn_(std::move(fn)) {
  if (ring_.stop_callbacks_ran_) {
    auto f = std::move(fn_);
    fn_ = nullptr;
    f();
    return;
  }
  next_ = ring_.stop_head_;
  if (next_) next_->prev_ = this;
  ring_.stop_head_ = this;
}

Ring::StopCallback::~StopCallback() {
  if (ring_.stop_head_ == this) ring_.stop_head_ = next_;
  if (prev_) prev_->next_ = next_;
  if (next_) next_->prev_ = prev_;
}

void Ring::Reap() {
  struct Item {
    uint64_t user_data;
    int res;
    uint32_t flags;
  };
  constexpr unsigned kBatch = 256;
  io_uring_cqe* cqes[kBatch];
  Item items[kBatch];
  for (;;) {
    unsigned n = io_uring_peek_batch_cqe(&ring_, cqes, kBatch);
    if (n == 0) return;
    for (unsigned i = 0; i < n; ++i) {
      items[i] = {cqes[i]->user_data, cqes[i]->res, cqes[i]->flags};
    }
    io_uring_cq_advance(&ring_, n);
    for (unsigned i = 0; i < n; ++i) {
      if (items[i].user_data == 0) continue;
      reinterpret_cast<Completion*>(items[i].user_data)->OnCqe(items[i].res, items[i].flags);
    }
  }
}

void Ring::SetWakeBatching(std::optional<WakeBatching> batching) {
  wake_batching_ = std::move(batching);
}

int Ring::SubmitAndSleep() {
  // Without IORING_FEAT_EXT_ARG (kernels before 5.11) liburing would queue a
  // timeout SQE of its own, whose CQE Reap() does not expect: no batching.
  if (!wake_batching_ || wake_batching_->events <= 1 || client_sessions_ > 0 ||
      (ring_.features & IORING_FEAT_EXT_ARG) == 0 || !wake_batching_->hold()) {
    return io_uring_submit_and_wait(&ring_, 1);
  }
  auto usec = wake_batching_->max_wait.count();
  __kernel_timespec ts{.tv_sec = usec / 1'000'000, .tv_nsec = usec % 1'000'000 * 1000};
  io_uring_cqe* cqe = nullptr;
  // -ETIME (the wait ran out, with fewer completions than asked for) is
  // the normal end of a batched sleep.
  return io_uring_submit_and_wait_timeout(&ring_, &cqe, wake_batching_->events, &ts, nullptr);
}

void Ring::Run(Task<void> main) {
  Ring* previous = current_ring;
  current_ring = this;
  running_ = true;
  ArmWakeRead();
  bool done = false;
  gate_.Spawn(RunMain(std::move(main), &done));
  while (!(done && gate_.active() == 0)) {
    // With local posts waiting, only collect what has completed; else sleep
    // until something does (or, batching, until enough has).
    int rc = local_posted_.empty() ? SubmitAndSleep() : io_uring_submit_and_get_events(&ring_);
    if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY && rc != -ETIME) {
      spdlog::critical("io_uring_submit_and_wait: {}", std::strerror(-rc));
      std::abort();
    }
    Reap();
    RunLocalPosts();
  }
  // Objects that free themselves on their last CQE (cancellations issued by
  // the last tasks) still hold the ring: reap until they are gone. Bounded,
  // so a lost CQE costs a log line and a leak, not a hung shutdown.
  Deadline give_up = After(std::chrono::seconds(1));
  while (holds_ > 0 && Clock::now() < give_up) {
    __kernel_timespec slice{.tv_sec = 0, .tv_nsec = 10'000'000};
    io_uring_cqe* cqe = nullptr;
    io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &slice, nullptr);
    Reap();
    RunLocalPosts();
  }
  if (holds_ > 0) {
    spdlog::error("ring stopping with {} object(s) still waiting for their last completion",
                  holds_);
  }
  // Push out cancellations and closes queued by the last tasks.
  io_uring_submit(&ring_);
  running_ = false;
  current_ring = previous;
}

}  // namespace salvo
