#include "bench/echo/multishot_recv_stream.h"

#include <liburing.h>

#include <cstdlib>

#include "engine/base/errno_status.h"
#include "engine/loop/provided_buffers.h"
#include "spdlog/spdlog.h"

namespace salvo::bench {

MultishotRecvStream::~MultishotRecvStream() {
  if (armed_) {
    spdlog::critical("MultishotRecvStream destroyed with its recv armed; await Close() first");
    std::abort();
  }
}

void MultishotRecvStream::Arm() {
  ring_ = Ring::Current();
  io_uring_sqe* sqe = ring_->GetSqe();
  io_uring_prep_recv_multishot(sqe, socket_->fd(), nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = ProvidedBuffers::kGroupId;
  io_uring_sqe_set_data(sqe, static_cast<Completion*>(this));
  armed_ = true;
}

void MultishotRecvStream::OnCqe(int res, uint32_t flags) {
  if (!(flags & IORING_CQE_F_MORE)) armed_ = false;
  if (flags & IORING_CQE_F_BUFFER) {
    uint16_t bid = flags >> IORING_CQE_BUFFER_SHIFT;
    if (res > 0) pending_.append(ring_->buffers().View(bid, res));
    ring_->buffers().Recycle(bid);
  }
  if (res == 0) {
    eof_ = true;
  } else if (res < 0 && res != -ENOBUFS && !(res == -ECANCELED && cancelling_)) {
    error_ = res;  // -ENOBUFS: every buffer was busy; re-armed on the next read
  }
  if (!armed_) cancelling_ = false;
  if (armed_ && !cancelling_ && pending_.size() > kMaxPending) {
    cancelling_ = true;  // backpressure: stop receiving until the reader drains
    ring_->Cancel(this);
  }
  bool ready = !pending_.empty() || eof_ || error_ != 0 || !armed_;
  if (waiter_ && ready) std::exchange(waiter_, {}).resume();
}

absl::StatusOr<size_t> MultishotRecvStream::TakePending(std::string& dst) {
  size_t n = pending_.size();
  dst.append(pending_);
  pending_.clear();
  if (pending_.capacity() > 4096) std::string().swap(pending_);
  return n;
}

Task<absl::StatusOr<size_t>> MultishotRecvStream::ReadSome(std::string& dst, Deadline) {
  for (int spins = 0; spins < 1000; ++spins) {
    if (!pending_.empty()) co_return TakePending(dst);
    if (eof_) co_return size_t{0};
    if (error_ != 0) co_return ErrnoStatus(error_, "recv");
    if (!armed_) Arm();
    co_await WaitAwaiter{this};
  }
  co_return absl::InternalError("multishot recv kept ending without data");
}

Task<void> MultishotRecvStream::Close() {
  if (!armed_) co_return;
  if (!cancelling_) {
    cancelling_ = true;
    ring_->Cancel(this);
  }
  while (armed_) co_await WaitAwaiter{this};
}

}  // namespace salvo::bench
