// Maildrop: one POP3 session's view of its folder (RFC 1939 §5), taken when
// the session enters the TRANSACTION state and fixed for its lifetime:
// message numbers 1..N in UID order, their sizes and unique-ids, and the
// marks DELE, RETR and RSET set. I/O-free; the session applies the marks to
// the store in the UPDATE state (session.h).
//
// Invariants:
//  - Messages flagged \Deleted in the store when the view is taken are not
//    part of it (POP3 never shows them; see pop3_options.h on keep mode).
//  - A message marked deleted is invisible to every command but RSET: STAT
//    and LIST leave it out, and LIST/UIDL/RETR/TOP/DELE of its number answer
//    -ERR (§5). Numbers of the other messages do not change.
//  - The unique-id of a message is "<uidvalidity>.<uid>": stable across
//    sessions, never reused (UIDs only grow, a new UIDVALIDITY changes all).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/mailbox/mail_store.h"

namespace salvo::pop3 {

class Maildrop {
 public:
  struct Message {
    uint32_t uid = 0;
    uint64_t size = 0;
    bool deleted = false;    // DELE in this session
    bool retrieved = false;  // RETR in this session
  };

  Maildrop() = default;
  explicit Maildrop(const mailbox::FolderView& view);

  // Message `number` (1-based) unless it does not exist or is marked deleted.
  const Message* Find(uint32_t number) const;
  // Every number, deleted ones included (LIST/UIDL iterate and skip those).
  uint32_t total() const { return static_cast<uint32_t>(messages_.size()); }
  const Message& at(uint32_t number) const { return messages_[number - 1]; }

  // STAT: messages not marked deleted and their octets.
  uint32_t count() const { return count_; }
  uint64_t octets() const { return octets_; }

  std::string UniqueId(const Message& m) const;

  // False when the message does not exist or is already marked.
  bool MarkDeleted(uint32_t number);
  void MarkRetrieved(uint32_t number);
  // RSET: unmarks every deleted message.
  void UnmarkAll();

  // UIDs (ascending) to change at UPDATE.
  std::vector<uint32_t> DeletedUids() const;
  std::vector<uint32_t> RetrievedUids() const;  // retrieved and not deleted

 private:
  uint32_t uid_validity_ = 0;
  std::vector<Message> messages_;
  uint32_t count_ = 0;
  uint64_t octets_ = 0;
};

}  // namespace salvo::pop3
