#include "engine/net/writer.h"

#include "absl/container/inlined_vector.h"

namespace salvo {
namespace {
// A flushed buffer keeps at most this much capacity, so an idle connection
// does not pin the memory of its largest reply; a typical EHLO reply fits.
constexpr size_t kKeepReplyCapacity = 512;
}  // namespace

Task<absl::Status> Writer::Flush(Deadline deadline) {
  if (out_.empty()) co_return absl::OkStatus();
  std::string_view part(out_);
  absl::Status s =
      co_await stream_->WriteAll(std::span<const std::string_view>(&part, 1), deadline);
  out_.clear();
  if (out_.capacity() > kKeepReplyCapacity) std::string().swap(out_);
  co_return s;
}

Task<absl::Status> Writer::FlushWith(std::span<const std::string_view> parts, Deadline deadline,
                                     std::span<const std::string_view> leading) {
  absl::InlinedVector<std::string_view, 8> all;
  all.reserve(leading.size() + parts.size() + 1);
  all.insert(all.end(), leading.begin(), leading.end());
  if (!out_.empty()) all.push_back(out_);
  all.insert(all.end(), parts.begin(), parts.end());
  absl::Status s = co_await stream_->WriteAll(all, deadline);
  out_.clear();
  if (out_.capacity() > kKeepReplyCapacity) std::string().swap(out_);
  co_return s;
}

}  // namespace salvo
