#include "engine/pop3/maildrop.h"

#include "fmt/format.h"

namespace salvo::pop3 {

Maildrop::Maildrop(const mailbox::FolderView& view) : uid_validity_(view.status.uid_validity) {
  messages_.reserve(view.messages.size());
  for (const mailbox::MessageMeta& m : view.messages) {
    if (m.flags & mailbox::kDeleted) continue;
    messages_.push_back({m.uid, m.size, false, false});
    octets_ += m.size;
  }
  count_ = static_cast<uint32_t>(messages_.size());
}

const Maildrop::Message* Maildrop::Find(uint32_t number) const {
  if (number == 0 || number > messages_.size()) return nullptr;
  const Message& m = messages_[number - 1];
  return m.deleted ? nullptr : &m;
}

std::string Maildrop::UniqueId(const Message& m) const {
  return fmt::format("{}.{}", uid_validity_, m.uid);
}

bool Maildrop::MarkDeleted(uint32_t number) {
  if (Find(number) == nullptr) return false;
  Message& m = messages_[number - 1];
  m.deleted = true;
  --count_;
  octets_ -= m.size;
  return true;
}

void Maildrop::MarkRetrieved(uint32_t number) {
  if (number >= 1 && number <= messages_.size()) messages_[number - 1].retrieved = true;
}

void Maildrop::UnmarkAll() {
  for (Message& m : messages_) {
    if (!m.deleted) continue;
    m.deleted = false;
    ++count_;
    octets_ += m.size;
  }
}

std::vector<uint32_t> Maildrop::DeletedUids() const {
  std::vector<uint32_t> out;
  for (const Message& m : messages_) {
    if (m.deleted) out.push_back(m.uid);
  }
  return out;
}

std::vector<uint32_t> Maildrop::RetrievedUids() const {
  std::vector<uint32_t> out;
  for (const Message& m : messages_) {
    if (m.retrieved && !m.deleted) out.push_back(m.uid);
  }
  return out;
}

}  // namespace salvo::pop3
