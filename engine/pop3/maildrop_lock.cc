#include "engine/pop3/maildrop_lock.h"

#include "fmt/format.h"

namespace salvo::pop3 {

std::shared_ptr<MaildropLocks> MaildropLocks::Global() {
  static const std::shared_ptr<MaildropLocks> global = std::make_shared<MaildropLocks>();
  return global;
}

std::string MaildropLocks::Key(std::string_view folder, std::string_view user) {
  // NUL cannot occur in a folder name (mail_store.h), so keys do not collide.
  return fmt::format("{}{}{}", folder, '\0', user);
}

MaildropLocks::Lock::~Lock() {
  if (locks_) locks_->Release(key_);
}

std::optional<MaildropLocks::Lock> MaildropLocks::TryLock(
    const std::shared_ptr<MaildropLocks>& locks, std::string_view folder, std::string_view user) {
  std::string key = Key(folder, user);
  std::lock_guard<std::mutex> lock(locks->mu_);
  if (!locks->held_.insert(key).second) return std::nullopt;
  return Lock(locks, std::move(key));
}

bool MaildropLocks::IsLocked(std::string_view folder, std::string_view user) const {
  std::string key = Key(folder, user);
  std::lock_guard<std::mutex> lock(mu_);
  return held_.contains(key);
}

size_t MaildropLocks::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return held_.size();
}

void MaildropLocks::Release(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  held_.erase(key);
}

}  // namespace salvo::pop3
