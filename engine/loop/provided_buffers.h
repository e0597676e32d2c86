// ProvidedBuffers: one registered buffer ring (IORING_REGISTER_PBUF_RING) of
// equal-sized receive buffers. The kernel picks a buffer when data arrives;
// the reader copies what it needs out and hands the buffer straight back, so
// idle connections pin no receive memory. liburing 2.3 has no
// io_uring_setup_buf_ring(): the ring memory is mmap()ed and registered here.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace salvo {

class ProvidedBuffers {
 public:
  static constexpr uint16_t kGroupId = 1;

  static absl::StatusOr<std::unique_ptr<ProvidedBuffers>> Create(io_uring* ring, unsigned count,
                                                                 unsigned size);
  ~ProvidedBuffers();
  ProvidedBuffers(const ProvidedBuffers&) = delete;
  ProvidedBuffers& operator=(const ProvidedBuffers&) = delete;

  unsigned buffer_size() const { return size_; }
  std::string_view View(uint16_t bid, size_t len) const {
    return {base_ + static_cast<size_t>(bid) * size_, len};
  }
  // Gives buffer `bid` back to the kernel.
  void Recycle(uint16_t bid);

 private:
  ProvidedBuffers() = default;
  io_uring* ring_ = nullptr;
  io_uring_buf_ring* br_ = nullptr;
  size_t br_bytes_ = 0;
  char* base_ = nullptr;
  size_t base_bytes_ = 0;
  unsigned count_ = 0;
  unsigned size_ = 0;
  bool registered_ = false;
};

}  // namespace salvo
