// MaildropLocks: RFC 1939 §4's exclusive-access lock on a maildrop, held by
// a POP3 session from its successful login until it ends, so that a second
// session of the same user is refused with "-ERR [IN-USE]" (RFC 2449 §8.1.1)
// instead of working on a stale view of the same messages.
//
// Every user sees the same folder of the bounce mailbox; the lock is per
// (folder, user), as the issue asks ("a per-user lock"). Sessions of two
// different users can work at once: the store keeps that safe (a DELE of a
// message another session already removed is skipped, and a RETR of one
// answers -ERR), it only cannot make their views agree.
//
// Thread-safe: one table is shared by every shard (Global() is the
// process-wide one); a mutex is taken once per login and once per logout.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_set.h"

namespace salvo::pop3 {

class MaildropLocks {
 public:
  // The table shared by every session of the process.
  static std::shared_ptr<MaildropLocks> Global();

  // Held while alive; released by its destructor.
  class Lock {
   public:
    Lock(Lock&& o) noexcept : locks_(std::move(o.locks_)), key_(std::move(o.key_)) {}
    Lock& operator=(Lock&&) = delete;
    ~Lock();

   private:
    friend class MaildropLocks;
    Lock(std::shared_ptr<MaildropLocks> locks, std::string key)
        : locks_(std::move(locks)), key_(std::move(key)) {}
    std::shared_ptr<MaildropLocks> locks_;  // keeps the table alive
    std::string key_;
  };

  // The lock on `user`'s view of `folder`, or nullopt when another session
  // holds it.
  static std::optional<Lock> TryLock(const std::shared_ptr<MaildropLocks>& locks,
                                     std::string_view folder, std::string_view user);
  bool IsLocked(std::string_view folder, std::string_view user) const;
  size_t size() const;

 private:
  static std::string Key(std::string_view folder, std::string_view user);
  void Release(const std::string& key);

  mutable std::mutex mu_;
  absl::flat_hash_set<std::string> held_;  // guarded by mu_
};

}  // namespace salvo::pop3
