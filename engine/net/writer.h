// Writer: gathers small protocol replies into one buffer and sends them with
// one write, or sends the buffer and caller-owned large parts (message
// bodies) together in one gathered write without copying those parts.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "engine/base/deadline.h"
#include "engine/loop/task.h"
#include "engine/net/stream.h"

namespace salvo {

class Writer {
 public:
  explicit Writer(Stream* stream) : stream_(stream) {}

  void Append(std::string_view bytes) { out_.append(bytes); }
  size_t pending() const { return out_.size(); }
  void set_stream(Stream* stream) { stream_ = stream; }

  // Sends what was appended.
  Task<absl::Status> Flush(Deadline deadline);
  // Appends and flushes.
  Task<absl::Status> Write(std::string_view bytes, Deadline deadline) {
    Append(bytes);
    return Flush(deadline);
  }
  // Sends `leading`, then what was appended, then `parts`, in one gathered
  // write.
  Task<absl::Status> FlushWith(std::span<const std::string_view> parts, Deadline deadline,
                               std::span<const std::string_view> leading = {});

 private:
  Stream* stream_;
  std::string out_;
};

}  // namespace salvo
