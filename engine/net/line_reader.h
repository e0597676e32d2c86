// LineReader: reads CRLF- (or LF-) terminated lines from a Stream with a hard
// limit on line length, and exact byte counts (BDAT chunks, IMAP literals).
// The buffer holds at most one line plus one receive buffer, and it gives its
// memory back once everything in it has been consumed, so an idle connection
// costs almost nothing.
//
// A line longer than the limit yields ResourceExhausted; the reader then
// discards input up to the next LF before returning further lines, so a
// session can answer "500 line too long" and carry on.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/base/deadline.h"
#include "engine/loop/task.h"
#include "engine/net/stream.h"

namespace salvo {

class LineReader {
 public:
  LineReader(Stream* stream, size_t max_line) : stream_(stream), max_line_(max_line) {}

  // The next line without its line ending; valid until the next call.
  // EndOfStream (IsEndOfStream()) when the peer closes between lines.
  Task<absl::StatusOr<std::string_view>> ReadLine(Deadline deadline);
  // Exactly `n` bytes; valid until the next call.
  Task<absl::StatusOr<std::string_view>> ReadExactly(size_t n, Deadline deadline);

  // Bytes received but not yet returned (pipelined input).
  size_t buffered() const { return buf_.size() - pos_; }
  std::string_view buffered_data() const { return std::string_view(buf_).substr(pos_); }
  // For STARTTLS: the session swaps the stream after checking buffered() == 0.
  void set_stream(Stream* stream) { stream_ = stream; }
  size_t max_line() const { return max_line_; }
  void set_max_line(size_t n) { max_line_ = n; }
  // Drops whatever is buffered.
  void Clear() {
    buf_.clear();
    pos_ = 0;
  }

 private:
  void Compact();

  Stream* stream_;
  size_t max_line_;
  std::string buf_;
  size_t pos_ = 0;      // first unconsumed byte
  size_t scanned_ = 0;  // bytes after pos_ already searched for LF
  bool discarding_ = false;
};

}  // namespace salvo
