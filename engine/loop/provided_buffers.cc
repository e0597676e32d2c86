#include "engine/loop/provided_buffers.h"

#include <sys/mman.h>

#include "engine/base/errno_status.h"

namespace salvo {

absl::StatusOr<std::unique_ptr<ProvidedBuffers>> ProvidedBuffers::Create(io_uring* ring,
                                                                         unsigned count,
                                                                         unsigned size) {
  if (count == 0 || (count & (count - 1)) != 0 || count > 32768) {
    return absl::InvalidArgumentError("provided buffer count must be a power of two <= 32768");
  }
  std::unique_ptr<ProvidedBuffers> b(new ProvidedBuffers());
  b->ring_ = ring;
  b->count_ = count;
  b->size_ = size;
  b->br_bytes_ = count * sizeof(io_uring_buf);
  void* br =
      mmap(nullptr, b->br_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (br == MAP_FAILED) return ErrnoStatus(errno, "mmap buffer ring");
  b->br_ = static_cast<io_uring_buf_ring*>(br);
  b->base_bytes_ = static_cast<size_t>(count) * size;
  // Pages are touched only when the kernel fills a buffer.
  void* base =
      mmap(nullptr, b->base_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (base == MAP_FAILED) return ErrnoStatus(errno, "mmap receive buffers");
  b->base_ = static_cast<char*>(base);

  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(b->br_);
  reg.ring_entries = count;
  reg.bgid = kGroupId;
  int rc = io_uring_register_buf_ring(ring, &reg, 0);
  if (rc < 0) return ErrnoStatus(rc, "io_uring_register_buf_ring");
  b->registered_ = true;
  io_uring_buf_ring_init(b->br_);
  int mask = io_uring_buf_ring_mask(count);
  for (unsigned i = 0; i < count; ++i) {
    io_uring_buf_ring_add(b->br_, b->base_ + static_cast<size_t>(i) * size, size, i, mask, i);
  }
  io_uring_buf_ring_advance(b->br_, count);
  return b;
}

void ProvidedBuffers::Recycle(uint16_t bid) {
  io_uring_buf_ring_add(br_, base_ + static_cast<size_t>(bid) * size_, size_, bid,
                        io_uring_buf_ring_mask(count_), 0);
  io_uring_buf_ring_advance(br_, 1);
}

ProvidedBuffers::~ProvidedBuffers() {
  if (registered_) io_uring_unregister_buf_ring(ring_, kGroupId);
  if (base_) munmap(base_, base_bytes_);
  if (br_) munmap(br_, br_bytes_);
}

}  // namespace salvo
