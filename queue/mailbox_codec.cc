#include "queue/mailbox_codec.h"

#include <fmt/format.h>

#include "queue/wire.h"
#include "queue/wire_record.h"

namespace salvo::queue {
namespace {

constexpr uint8_t kMailboxFormatVersion = 1;

using wire::Field;
using wire::FieldReader;
using wire::FieldWriter;

void PutBigEndian(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t GetBigEndian(std::string_view in) {
  uint64_t v = 0;
  for (unsigned char c : in) v = (v << 8) | c;
  return v;
}

constexpr wire::RecordFormat kRecord("mailbox", kMailboxFormatVersion);

using wire::Num;
using wire::Str;

}  // namespace

std::string MailboxBlobKey(uint64_t blob) {
  std::string k(1, kMailboxBlobTag);
  PutBigEndian(&k, blob, 8);
  return k;
}

std::string MailboxFolderKey(uint32_t folder) {
  std::string k(1, kMailboxFolderTag);
  PutBigEndian(&k, folder, 4);
  return k;
}

std::string MailboxEntryKey(uint32_t folder, uint32_t uid) {
  std::string k(1, kMailboxEntryTag);
  PutBigEndian(&k, folder, 4);
  PutBigEndian(&k, uid, 4);
  return k;
}

std::optional<uint64_t> ParseMailboxBlobKey(std::string_view key) {
  if (key.size() != 9 || key[0] != kMailboxBlobTag) return std::nullopt;
  return GetBigEndian(key.substr(1));
}

std::optional<uint32_t> ParseMailboxFolderKey(std::string_view key) {
  if (key.size() != 5 || key[0] != kMailboxFolderTag) return std::nullopt;
  return static_cast<uint32_t>(GetBigEndian(key.substr(1)));
}

std::optional<MailboxEntryKeyParts> ParseMailboxEntryKey(std::string_view key) {
  if (key.size() != 9 || key[0] != kMailboxEntryTag) return std::nullopt;
  return MailboxEntryKeyParts{static_cast<uint32_t>(GetBigEndian(key.substr(1, 4))),
                              static_cast<uint32_t>(GetBigEndian(key.substr(5, 4)))};
}

std::string EncodeFolderRecord(const FolderRecord& r) {
  std::string out = kRecord.Begin();
  FieldWriter w(&out);
  w.Bytes(1, r.name);
  w.Varint(2, r.uid_validity);
  w.Varint(3, r.uid_next);
  w.VarintIfSet(4, r.subscribed ? 1 : 0);
  w.VarintIfSet(5, r.system ? 1 : 0);
  return out;
}

absl::StatusOr<FolderRecord> DecodeFolderRecord(std::string_view value) {
  auto body = kRecord.Fields(value, "folder");
  if (!body.ok()) return body.status();
  FolderRecord r;
  absl::Status s = kRecord.ForEachField(*body, "folder", [&](const Field& f) {
    switch (f.number) {
      case 1:
        return Str(f, &r.name);
      case 2:
        return Num(f, &r.uid_validity);
      case 3:
        return Num(f, &r.uid_next);
      case 4:
        return Num(f, &r.subscribed);
      case 5:
        return Num(f, &r.system);
      default:
        return true;
    }
  });
  if (!s.ok()) return s;
  if (r.name.empty()) return kRecord.Damaged("folder", "no name");
  return r;
}

std::string EncodeEntryRecord(const EntryRecord& r) {
  std::string out = kRecord.Begin();
  FieldWriter w(&out);
  w.Varint(1, r.blob);
  w.VarintIfSet(2, r.flags);
  w.Varint(3, static_cast<uint64_t>(absl::ToUnixMicros(r.internal_date)));
  w.Varint(4, r.size);
  w.BytesIfSet(5, r.attributes.category);
  w.BytesIfSet(6, r.attributes.campaign);
  w.BytesIfSet(7, r.attributes.recipient);
  return out;
}

absl::StatusOr<EntryRecord> DecodeEntryRecord(std::string_view value) {
  auto body = kRecord.Fields(value, "entry");
  if (!body.ok()) return body.status();
  EntryRecord r;
  int64_t micros = 0;
  absl::Status s = kRecord.ForEachField(*body, "entry", [&](const Field& f) {
    switch (f.number) {
      case 1:
        return Num(f, &r.blob);
      case 2:
        return Num(f, &r.flags);
      case 3:
        return Num(f, &micros);
      case 4:
        return Num(f, &r.size);
      case 5:
        return Str(f, &r.attributes.category);
      case 6:
        return Str(f, &r.attributes.campaign);
      case 7:
        return Str(f, &r.attributes.recipient);
      default:
        return true;
    }
  });
  if (!s.ok()) return s;
  r.internal_date = absl::FromUnixMicros(micros);
  return r;
}

std::string EncodeUidValidity(uint32_t v) {
  std::string out;
  wire::PutVarint(&out, v);
  return out;
}

absl::StatusOr<uint32_t> DecodeUidValidity(std::string_view value) {
  uint64_t v = 0;
  if (!wire::GetVarint(&value, &v) || v > UINT32_MAX)
    return kRecord.Damaged("uidvalidity", "bad varint");
  return static_cast<uint32_t>(v);
}

}  // namespace salvo::queue
