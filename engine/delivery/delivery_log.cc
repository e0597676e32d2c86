#include "engine/delivery/delivery_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "engine/base/errno_status.h"
#include "spdlog/spdlog.h"

namespace salvo::delivery {
namespace {

constexpr size_t kFlushAt = 1 << 20;

int OpenAppend(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

}  // namespace

absl::StatusOr<std::unique_ptr<DeliveryLog>> DeliveryLog::Open(DeliveryLogOptions options) {
  std::unique_ptr<DeliveryLog> log(new DeliveryLog(std::move(options)));
  if (!log->options_.path.empty()) {
    log->fd_ = OpenAppend(log->options_.path);
    if (log->fd_ < 0) return ErrnoStatus(errno, "open delivery log " + log->options_.path);
    struct stat st {};
    if (fstat(log->fd_, &st) == 0) log->size_ = static_cast<uint64_t>(st.st_size);
  }
  log->thread_ = std::thread([l = log.get()] { l->Run(); });
  return log;
}

DeliveryLog::~DeliveryLog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
  if (fd_ >= 0) ::close(fd_);
}

void DeliveryLog::Append(std::string_view json) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    buffer_.append(json);
    buffer_.push_back('\n');
    ++appended_;
    wake = buffer_.size() >= kFlushAt;
  }
  if (wake) cv_.notify_one();
}

void DeliveryLog::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  uint64_t target = appended_;
  cv_.notify_one();
  flushed_cv_.wait(lock, [&] { return written_ >= target || stopping_; });
}

void DeliveryLog::Run() {
  std::string out;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait_for(lock, std::chrono::milliseconds(100),
                 [&] { return stopping_ || buffer_.size() >= kFlushAt || written_ < appended_; });
    out.swap(buffer_);
    uint64_t lines = appended_;
    bool stop = stopping_;
    lock.unlock();
    if (!out.empty()) WriteOut(out);
    out.clear();
    lock.lock();
    written_ = lines;
    flushed_cv_.notify_all();
    if (stop && buffer_.empty()) return;
  }
}

void DeliveryLog::WriteOut(const std::string& bytes) {
  if (fd_ < 0) return;
  if (size_ > 0 && size_ + bytes.size() > options_.max_bytes) Rotate();
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      spdlog::error("delivery log {}: write failed: {}", options_.path, std::strerror(errno));
      return;
    }
    done += static_cast<size_t>(n);
  }
  size_ += bytes.size();
}

void DeliveryLog::Rotate() {
  const std::string& p = options_.path;
  for (int i = options_.keep - 1; i >= 1; --i) {
    std::rename(fmt::format("{}.{}", p, i).c_str(), fmt::format("{}.{}", p, i + 1).c_str());
  }
  if (options_.keep >= 1) {
    std::rename(p.c_str(), (p + ".1").c_str());
  } else {
    ::unlink(p.c_str());
  }
  ::close(fd_);
  fd_ = OpenAppend(p);
  size_ = 0;
  if (fd_ < 0) spdlog::error("delivery log {}: reopen failed: {}", p, std::strerror(errno));
}

}  // namespace salvo::delivery
