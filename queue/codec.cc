#include "queue/codec.h"

#include <fmt/format.h>

#include "queue/wire.h"
#include "queue/wire_record.h"

namespace salvo::queue {
namespace {

using wire::Field;
using wire::FieldReader;
using wire::FieldWriter;

constexpr wire::RecordFormat kRecord("spool", kFormatVersion);

using wire::Num;
using wire::Str;

int64_t ToMs(absl::Time t) { return absl::ToUnixMillis(t); }
absl::Time FromMs(int64_t ms) { return absl::FromUnixMillis(ms); }

void PutPair(FieldWriter& w, uint32_t field, const std::string& a, const std::string& b) {
  w.Nested(field, [&](FieldWriter& n) {
    n.Bytes(1, a);
    n.Bytes(2, b);
  });
}
bool GetPair(const Field& f, std::pair<std::string, std::string>* out) {
  if (f.type != wire::kBytes) return false;
  return kRecord
      .ForEachField(f.bytes, "pair",
                    [&](const Field& g) {
                      if (g.number == 1) return Str(g, &out->first);
                      if (g.number == 2) return Str(g, &out->second);
                      return true;
                    })
      .ok();
}

void PutResponse(FieldWriter& w, uint32_t field, const RemoteResponse& r) {
  w.Nested(field, [&](FieldWriter& n) {
    n.BytesIfSet(1, r.host);
    n.BytesIfSet(2, r.ip);
    n.VarintIfSet(3, static_cast<uint64_t>(r.code));
    n.BytesIfSet(4, r.enhanced_status);
    n.BytesIfSet(5, r.text);
  });
}
bool GetResponse(const Field& f, RemoteResponse* r) {
  if (f.type != wire::kBytes) return false;
  return kRecord
      .ForEachField(f.bytes, "response",
                    [&](const Field& g) {
                      switch (g.number) {
                        case 1:
                          return Str(g, &r->host);
                        case 2:
                          return Str(g, &r->ip);
                        case 3:
                          return Num(g, &r->code);
                        case 4:
                          return Str(g, &r->enhanced_status);
                        case 5:
                          return Str(g, &r->text);
                        default:
                          return true;
                      }
                    })
      .ok();
}

bool GetMaxAge(const Field& f, std::optional<absl::Duration>* out) {
  int64_t ms = 0;
  if (!Num(f, &ms)) return false;
  *out = absl::Milliseconds(ms);
  return true;
}

bool GetRet(const Field& f, DsnReturn* out) {
  uint64_t v = 0;
  if (!Num(f, &v)) return false;
  *out = v <= 2 ? static_cast<DsnReturn>(v) : DsnReturn::kUnspecified;
  return true;
}

absl::StatusOr<Message> DecodeMessage(std::string_view body) {
  Message m;
  absl::Status s = kRecord.ForEachField(body, "message", [&](const Field& f) {
    switch (f.number) {
      case 2:
        return Str(f, &m.envelope_from);
      case 3:
        return Str(f, &m.content);
      case 4:
        return GetRet(f, &m.ret);
      case 5:
        return Str(f, &m.envid);
      case 6:
        return GetMaxAge(f, &m.max_age);
      default:
        return true;
    }
  });
  if (!s.ok()) return s;
  return m;
}

bool GetAttachment(const Field& f, Attachment* a) {
  if (f.type != wire::kBytes) return false;
  return kRecord
      .ForEachField(f.bytes, "attachment",
                    [&](const Field& g) {
                      switch (g.number) {
                        case 1:
                          return Str(g, &a->filename);
                        case 2:
                          return Str(g, &a->content_type);
                        case 3:
                          return Str(g, &a->data);
                        case 4:
                          return Str(g, &a->content_id);
                        default:
                          return true;
                      }
                    })
      .ok();
}

absl::StatusOr<Campaign> DecodeCampaign(std::string_view body) {
  Campaign c;
  CampaignTemplate& t = c.message_template;
  CampaignSettings& s = c.settings;
  std::pair<std::string, std::string> pair;
  absl::Status st = kRecord.ForEachField(body, "campaign", [&](const Field& f) {
    switch (f.number) {
      case 2:
        return Str(f, &s.name);
      case 3:
        return Str(f, &s.envelope_from);
      case 4:
        pair = {};
        if (!GetPair(f, &pair)) return false;
        t.headers.push_back({std::move(pair.first), std::move(pair.second)});
        return true;
      case 5:
        return Str(f, &t.text);
      case 6:
        return Str(f, &t.html);
      case 7:
        return GetAttachment(f, &t.attachments.emplace_back());
      case 8:
        return GetRet(f, &s.ret);
      case 9:
        return Str(f, &s.envid);
      case 10:
        return GetMaxAge(f, &s.max_age);
      case 11:
        return GetPair(f, &s.metadata.emplace_back());
      default:
        return true;
    }
  });
  if (!st.ok()) return st;
  return c;
}

}  // namespace

std::string EncodeContentMeta(const ContentMeta& meta) {
  std::string out = kRecord.Begin();
  FieldWriter w(&out);
  w.Varint(1, static_cast<uint64_t>(meta.kind));
  w.VarintIfSet(2, meta.sealed ? 1 : 0);
  w.VarintIfSet(3, meta.max_age_s);
  w.VarintIfSet(4, meta.cancelled ? 1 : 0);
  return out;
}

absl::StatusOr<ContentMeta> DecodeContentMeta(std::string_view value) {
  auto body = kRecord.Fields(value, "content meta");
  if (!body.ok()) return body.status();
  ContentMeta m;
  uint64_t kind = 0;
  absl::Status s = kRecord.ForEachField(*body, "content meta", [&](const Field& f) {
    switch (f.number) {
      case 1:
        return Num(f, &kind);
      case 2:
        return Num(f, &m.sealed);
      case 3:
        return Num(f, &m.max_age_s);
      case 4:
        return Num(f, &m.cancelled);
      default:
        return true;
    }
  });
  if (!s.ok()) return s;
  if (kind != 1 && kind != 2) return kRecord.Damaged("content meta", "unknown content kind");
  m.kind = static_cast<ContentKind>(kind);
  return m;
}

void EncodeMessage(const Message& m, std::string* out) {
  out->append(kRecord.Begin());
  FieldWriter w(out);
  w.Varint(1, static_cast<uint64_t>(ContentKind::kMessage));
  w.BytesIfSet(2, m.envelope_from);
  w.Bytes(3, m.content);
  w.VarintIfSet(4, static_cast<uint64_t>(m.ret));
  w.BytesIfSet(5, m.envid);
  if (m.max_age) w.Varint(6, absl::ToInt64Milliseconds(*m.max_age));
}

void EncodeCampaign(const Campaign& c, std::string* out) {
  const CampaignTemplate& t = c.message_template;
  const CampaignSettings& s = c.settings;
  out->append(kRecord.Begin());
  FieldWriter w(out);
  w.Varint(1, static_cast<uint64_t>(ContentKind::kCampaign));
  w.BytesIfSet(2, s.name);
  w.BytesIfSet(3, s.envelope_from);
  for (const Header& h : t.headers) PutPair(w, 4, h.name, h.value);
  w.BytesIfSet(5, t.text);
  w.BytesIfSet(6, t.html);
  for (const Attachment& a : t.attachments) {
    w.Nested(7, [&](FieldWriter& n) {
      n.BytesIfSet(1, a.filename);
      n.BytesIfSet(2, a.content_type);
      n.Bytes(3, a.data);
      n.BytesIfSet(4, a.content_id);
    });
  }
  w.VarintIfSet(8, static_cast<uint64_t>(s.ret));
  w.BytesIfSet(9, s.envid);
  if (s.max_age) w.Varint(10, absl::ToInt64Milliseconds(*s.max_age));
  for (const auto& [k, v] : s.metadata) PutPair(w, 11, k, v);
}

absl::StatusOr<Content> DecodeContent(std::string_view value) {
  auto body = kRecord.Fields(value, "content");
  if (!body.ok()) return body.status();
  FieldReader r(*body);
  Field f;
  if (!r.Next(&f) || f.number != 1 || f.type != wire::kVarint) {
    return kRecord.Damaged("content", "missing content kind");
  }
  if (f.varint == static_cast<uint64_t>(ContentKind::kMessage)) return DecodeMessage(*body);
  if (f.varint == static_cast<uint64_t>(ContentKind::kCampaign)) return DecodeCampaign(*body);
  return kRecord.Damaged("content", "unknown content kind");
}

void EncodeRecipient(const NewRecipient& r, std::string* out) {
  out->append(kRecord.Begin());
  FieldWriter w(out);
  w.Bytes(1, r.address);  // first: DecodeRecipientAddress stops here
  for (const auto& [k, v] : r.variables) PutPair(w, 2, k, v);
  w.VarintIfSet(3, r.dsn.notify);
  w.BytesIfSet(4, r.dsn.orcpt);
}

absl::StatusOr<NewRecipient> DecodeRecipient(std::string_view value) {
  auto body = kRecord.Fields(value, "recipient");
  if (!body.ok()) return body.status();
  NewRecipient r;
  absl::Status s = kRecord.ForEachField(*body, "recipient", [&](const Field& f) {
    switch (f.number) {
      case 1:
        return Str(f, &r.address);
      case 2:
        return GetPair(f, &r.variables.emplace_back());
      case 3:
        return Num(f, &r.dsn.notify);
      case 4:
        return Str(f, &r.dsn.orcpt);
      default:
        return true;
    }
  });
  if (!s.ok()) return s;
  return r;
}

absl::StatusOr<std::string_view> DecodeRecipientAddress(std::string_view value) {
  auto body = kRecord.Fields(value, "recipient");
  if (!body.ok()) return body.status();
  FieldReader r(*body);
  Field f;
  while (r.Next(&f)) {
    if (f.number == 1 && f.type == wire::kBytes) return f.bytes;
  }
  if (!r.status().ok()) return r.status();
  return kRecord.Damaged("recipient", "no address");
}

std::string EncodeSchedule(const ScheduleRecord& r) {
  std::string out = kRecord.Begin();
  FieldWriter w(&out);
  w.Varint(1, static_cast<uint64_t>(r.state));
  w.VarintIfSet(2, static_cast<uint64_t>(r.attempts));
  w.VarintIfSet(3, static_cast<uint64_t>(r.next_attempt_ms));
  w.VarintIfSet(4, static_cast<uint64_t>(r.last_attempt_ms));
  if (r.last_response) PutResponse(w, 5, *r.last_response);
  w.BytesIfSet(6, r.last_reason);
  return out;
}

absl::StatusOr<ScheduleRecord> DecodeSchedule(std::string_view value) {
  auto body = kRecord.Fields(value, "schedule");
  if (!body.ok()) return body.status();
  ScheduleRecord r;
  uint64_t state = 1;
  absl::Status s = kRecord.ForEachField(*body, "schedule", [&](const Field& f) {
    switch (f.number) {
      case 1:
        return Num(f, &state);
      case 2:
        return Num(f, &r.attempts);
      case 3:
        return Num(f, &r.next_attempt_ms);
      case 4:
        return Num(f, &r.last_attempt_ms);
      case 5:
        return GetResponse(f, &r.last_response.emplace());
      case 6:
        return Str(f, &r.last_reason);
      default:
        return true;
    }
  });
  if (!s.ok()) return s;
  if (state > static_cast<uint64_t>(RecipientState::kExpired)) {
    return kRecord.Damaged("schedule", "unknown state");
  }
  r.state = static_cast<RecipientState>(state);
  return r;
}

std::string EncodeEvent(const DeliveryEvent& e) {
  std::string out = kRecord.Begin();
  FieldWriter w(&out);
  w.Bytes(1, e.recipient.Bytes());
  w.Bytes(2, e.content.Bytes());
  w.Varint(3, static_cast<uint64_t>(e.kind));
  w.Varint(4, static_cast<uint64_t>(ToMs(e.time)));
  w.VarintIfSet(5, static_cast<uint64_t>(e.attempts));
  w.BytesIfSet(6, e.address);
  if (e.response != RemoteResponse{}) PutResponse(w, 7, e.response);
  w.BytesIfSet(8, e.reason);
  if (e.next_attempt) w.Varint(9, static_cast<uint64_t>(ToMs(*e.next_attempt)));
  return out;
}

absl::StatusOr<DeliveryEvent> DecodeEvent(std::string_view value) {
  auto body = kRecord.Fields(value, "event");
  if (!body.ok()) return body.status();
  DeliveryEvent e;
  uint64_t kind = 0;
  int64_t time_ms = 0, next_ms = -1;
  std::string rcpt, content;
  absl::Status s = kRecord.ForEachField(*body, "event", [&](const Field& f) {
    switch (f.number) {
      case 1:
        return Str(f, &rcpt);
      case 2:
        return Str(f, &content);
      case 3:
        return Num(f, &kind);
      case 4:
        return Num(f, &time_ms);
      case 5:
        return Num(f, &e.attempts);
      case 6:
        return Str(f, &e.address);
      case 7:
        return GetResponse(f, &e.response);
      case 8:
        return Str(f, &e.reason);
      case 9:
        return Num(f, &next_ms);
      default:
        return true;
    }
  });
  if (!s.ok()) return s;
  auto r = RecipientId::FromBytes(rcpt);
  auto c = ContentId::FromBytes(content);
  if (!r || !c) return kRecord.Damaged("event", "bad ids");
  if (kind > static_cast<uint64_t>(RecipientState::kExpired))
    return kRecord.Damaged("event", "bad kind");
  e.recipient = *r;
  e.content = *c;
  e.kind = static_cast<RecipientState>(kind);
  e.time = FromMs(time_ms);
  if (next_ms >= 0) e.next_attempt = FromMs(next_ms);
  return e;
}

std::string EncodeSuppression(const SuppressionEntry& entry) {
  std::string out = kRecord.Begin();
  FieldWriter w(&out);
  w.BytesIfSet(1, entry.reason);
  w.BytesIfSet(2, entry.source);
  w.Varint(3, static_cast<uint64_t>(ToMs(entry.created)));
  return out;
}

absl::StatusOr<SuppressionEntry> DecodeSuppression(std::string_view key, std::string_view value) {
  auto body = kRecord.Fields(value, "suppression");
  if (!body.ok()) return body.status();
  SuppressionEntry e;
  e.address.assign(key.data(), key.size());
  int64_t created_ms = 0;
  absl::Status s = kRecord.ForEachField(*body, "suppression", [&](const Field& f) {
    switch (f.number) {
      case 1:
        return Str(f, &e.reason);
      case 2:
        return Str(f, &e.source);
      case 3:
        return Num(f, &created_ms);
      default:
        return true;
    }
  });
  if (!s.ok()) return s;
  e.created = FromMs(created_ms);
  return e;
}

}  // namespace salvo::queue
