// RecipientStaging: validated recipients of one CSV upload, held in an
// anonymous temporary file until the whole upload has been checked, then
// read back in bounded batches for the spool. This is what lets a
// million-row upload be all-or-nothing (a row error anywhere means nothing
// reaches the spool) with bounded memory: the write buffer and one read
// batch (kMaxBatchBytes) are all that is held.
//
// The file is opened with O_TMPFILE (falling back to mkostemp + unlink), so
// it disappears with the process or the object. All reads and writes go
// through the ring (io_uring), never blocking the ring thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/base/unique_fd.h"
#include "engine/loop/task.h"
#include "queue/records.h"

namespace salvo::api {

class RecipientStaging {
 public:
  static constexpr size_t kBufferBytes = 1 << 20;
  static constexpr size_t kMaxBatchBytes = 8 << 20;

  static Task<absl::StatusOr<std::unique_ptr<RecipientStaging>>> Open(std::string dir);

  // Appends one recipient (buffered).
  Task<absl::Status> Add(const queue::NewRecipient& recipient);
  // Writes what is buffered; reading starts from the beginning afterwards.
  Task<absl::Status> FinishWriting();
  // The next recipients, at most `max` and about kMaxBatchBytes; empty at the end.
  Task<absl::StatusOr<std::vector<queue::NewRecipient>>> Next(size_t max);

  uint64_t count() const { return count_; }
  uint64_t file_bytes() const { return write_offset_; }

 private:
  explicit RecipientStaging(UniqueFd fd) : fd_(std::move(fd)) {}
  Task<absl::Status> Flush();
  // Decodes one record at buffer_[pos...]; false if it is incomplete.
  bool Decode(size_t& pos, queue::NewRecipient& out) const;

  UniqueFd fd_;
  std::string buffer_;
  uint64_t write_offset_ = 0;
  uint64_t read_offset_ = 0;
  size_t read_pos_ = 0;
  uint64_t count_ = 0;
};

}  // namespace salvo::api
