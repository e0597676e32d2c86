#include "engine/net/line_reader.h"

#include "absl/strings/str_cat.h"
#include "engine/base/status_macros.h"

namespace salvo {
namespace {
// An emptied buffer keeps at most this much capacity, so an idle connection
// does not pin the memory of its largest line; SMTP command lines fit.
constexpr size_t kKeepLineCapacity = 512;
}  // namespace

void LineReader::Compact() {
  if (pos_ == buf_.size()) {
    buf_.clear();
    if (buf_.capacity() > kKeepLineCapacity) std::string().swap(buf_);
    pos_ = 0;
  } else if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
}

Task<absl::StatusOr<std::string_view>> LineReader::ReadLine(Deadline deadline) {
  Compact();
  while (discarding_) {
    size_t lf = buf_.find('\n', pos_);
    if (lf != std::string::npos) {
      pos_ = lf + 1;
      discarding_ = false;
      scanned_ = 0;
      Compact();
      break;
    }
    buf_.clear();
    pos_ = 0;
    CO_ASSIGN_OR_RETURN(size_t n, co_await stream_->ReadSome(buf_, deadline));
    if (n == 0) co_return EndOfStreamError();
  }
  for (;;) {
    size_t lf = buf_.find('\n', pos_ + scanned_);
    if (lf != std::string::npos) {
      std::string_view line(buf_.data() + pos_, lf - pos_);
      pos_ = lf + 1;
      scanned_ = 0;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.size() > max_line_) {
        co_return absl::ResourceExhaustedError(
            absl::StrCat("line longer than ", max_line_, " bytes"));
      }
      co_return line;
    }
    scanned_ = buf_.size() - pos_;
    if (scanned_ > max_line_ + 1) {
      discarding_ = true;
      buf_.clear();
      pos_ = 0;
      scanned_ = 0;
      co_return absl::ResourceExhaustedError(
          absl::StrCat("line longer than ", max_line_, " bytes"));
    }
    CO_ASSIGN_OR_RETURN(size_t n, co_await stream_->ReadSome(buf_, deadline));
    if (n == 0) {
      if (buf_.size() > pos_) co_return absl::OutOfRangeError("connection closed mid-line");
      co_return EndOfStreamError();
    }
  }
}

Task<absl::StatusOr<std::string_view>> LineReader::ReadExactly(size_t n, Deadline deadline) {
  Compact();
  while (buf_.size() - pos_ < n) {
    CO_ASSIGN_OR_RETURN(size_t got, co_await stream_->ReadSome(buf_, deadline));
    if (got == 0) co_return absl::OutOfRangeError("connection closed mid-data");
  }
  std::string_view out(buf_.data() + pos_, n);
  pos_ += n;
  scanned_ = 0;
  co_return out;
}

}  // namespace salvo
