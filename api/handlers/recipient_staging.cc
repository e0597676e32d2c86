#include "api/handlers/recipient_staging.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>

#include "engine/base/errno_status.h"
#include "engine/loop/ops.h"

namespace salvo::api {
namespace {

void PutU32(std::string& out, uint32_t v) {
  char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
               static_cast<char>(v >> 24)};
  out.append(b, 4);
}

uint32_t GetU32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return u[0] | (u[1] << 8) | (u[2] << 16) | (static_cast<uint32_t>(u[3]) << 24);
}

void PutString(std::string& out, const std::string& s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out += s;
}

}  // namespace

Task<absl::StatusOr<std::unique_ptr<RecipientStaging>>> RecipientStaging::Open(std::string dir) {
  IoResult r = co_await RingOp(Never(), [&](io_uring_sqe* sqe) {
    io_uring_prep_openat(sqe, AT_FDCWD, dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  });
  if (r.ok()) co_return std::unique_ptr<RecipientStaging>(new RecipientStaging(UniqueFd(r.res)));
  // File systems without O_TMPFILE: a named file, unlinked at once.
  std::string path = dir + "/salvo-csv-XXXXXX";
  int fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) co_return ErrnoStatus(errno, "creating a staging file in " + dir);
  ::unlink(path.c_str());
  co_return std::unique_ptr<RecipientStaging>(new RecipientStaging(UniqueFd(fd)));
}

Task<absl::Status> RecipientStaging::Add(const queue::NewRecipient& recipient) {
  PutString(buffer_, recipient.address);
  PutU32(buffer_, static_cast<uint32_t>(recipient.variables.size()));
  for (const auto& [name, value] : recipient.variables) {
    PutString(buffer_, name);
    PutString(buffer_, value);
  }
  ++count_;
  if (buffer_.size() >= kBufferBytes) co_return co_await Flush();
  co_return absl::OkStatus();
}

Task<absl::Status> RecipientStaging::Flush() {
  size_t done = 0;
  while (done < buffer_.size()) {
    const char* data = buffer_.data() + done;
    unsigned len = static_cast<unsigned>(buffer_.size() - done);
    uint64_t offset = write_offset_;
    int fd = fd_.get();
    IoResult r = co_await RingOp(
        Never(), [=](io_uring_sqe* sqe) { io_uring_prep_write(sqe, fd, data, len, offset); });
    if (!r.ok()) co_return ErrnoStatus(r.res, "writing the CSV staging file");
    if (r.res == 0) co_return absl::DataLossError("the CSV staging file took no bytes");
    done += static_cast<size_t>(r.res);
    write_offset_ += static_cast<uint64_t>(r.res);
  }
  buffer_.clear();
  co_return absl::OkStatus();
}

Task<absl::Status> RecipientStaging::FinishWriting() {
  absl::Status s = co_await Flush();
  std::string().swap(buffer_);
  read_offset_ = 0;
  read_pos_ = 0;
  co_return s;
}

bool RecipientStaging::Decode(size_t& pos, queue::NewRecipient& out) const {
  size_t p = pos;
  auto get_string = [&](std::string& s) {
    if (buffer_.size() - p < 4) return false;
    uint32_t n = GetU32(buffer_.data() + p);
    if (buffer_.size() - p - 4 < n) return false;
    s.assign(buffer_, p + 4, n);
    p += 4 + n;
    return true;
  };
  if (!get_string(out.address) || buffer_.size() - p < 4) return false;
  uint32_t vars = GetU32(buffer_.data() + p);
  p += 4;
  out.variables.resize(vars);
  for (auto& [name, value] : out.variables) {
    if (!get_string(name) || !get_string(value)) return false;
  }
  pos = p;
  return true;
}

Task<absl::StatusOr<std::vector<queue::NewRecipient>>> RecipientStaging::Next(size_t max) {
  std::vector<queue::NewRecipient> out;
  size_t bytes = 0;
  while (out.size() < max && bytes < kMaxBatchBytes) {
    queue::NewRecipient r;
    size_t before = read_pos_;
    if (Decode(read_pos_, r)) {
      bytes += read_pos_ - before;
      out.push_back(std::move(r));
      continue;
    }
    if (read_offset_ >= write_offset_) break;  // nothing more on disk
    buffer_.erase(0, read_pos_);               // keep the incomplete record
    read_pos_ = 0;
    size_t have = buffer_.size();
    size_t want = std::max(kBufferBytes, have);
    buffer_.resize(have + want);
    int fd = fd_.get();
    char* dst = buffer_.data() + have;
    uint64_t offset = read_offset_;
    IoResult res = co_await RingOp(Never(), [=](io_uring_sqe* sqe) {
      io_uring_prep_read(sqe, fd, dst, static_cast<unsigned>(want), offset);
    });
    if (!res.ok()) co_return ErrnoStatus(res.res, "reading the CSV staging file");
    buffer_.resize(have + static_cast<size_t>(res.res));
    if (res.res == 0) co_return absl::DataLossError("the CSV staging file ended early");
    read_offset_ += static_cast<uint64_t>(res.res);
  }
  co_return out;
}

}  // namespace salvo::api
