#include "queue/campaign_table.h"

#include <fmt/format.h>

#include "queue/codec.h"
#include "queue/wire.h"

namespace salvo::queue {
namespace {

using wire::Field;
using wire::FieldReader;
using wire::FieldWriter;

constexpr uint64_t kClosedBit = 1, kPausedBit = 2, kCancelledBit = 4;

absl::Status Damaged(const char* what, const char* why) {
  return absl::DataLossError(fmt::format("spool {} record: {}", what, why));
}

// The fields after the version byte.
absl::StatusOr<std::string_view> Body(std::string_view value, const char* what) {
  if (value.empty() || value[0] == 0) return Damaged(what, "empty value or version 0");
  if (static_cast<uint8_t>(value[0]) > kFormatVersion) {
    return absl::FailedPreconditionError(
        fmt::format("spool {} record has a newer format than this Salvo reads", what));
  }
  return value.substr(1);
}

// The counters, in field order 10.. (never renumber).
constexpr uint32_t kCounterFieldEnd = 21;
uint64_t* CounterField(CampaignCounters& c, uint32_t field) {
  switch (field) {
    case 10:
      return &c.accepted;
    case 11:
      return &c.delivered;
    case 12:
      return &c.failed;
    case 13:
      return &c.expired;
    case 14:
      return &c.suppressed;
    case 15:
      return &c.cancelled;
    case 16:
      return &c.deferred;
    case 17:
      return &c.deferrals;
    case 18:
      return &c.bounced;
    case 19:
      return &c.complained;
    case 20:
      return &c.unsubscribed;
    default:
      return nullptr;
  }
}

}  // namespace

const char* CampaignStatusName(CampaignStatus status) {
  switch (status) {
    case CampaignStatus::kOpen:
      return "open";
    case CampaignStatus::kClosed:
      return "closed";
    case CampaignStatus::kRunning:
      return "running";
    case CampaignStatus::kPaused:
      return "paused";
    case CampaignStatus::kCancelled:
      return "cancelled";
    case CampaignStatus::kCompleted:
      return "completed";
  }
  return "unknown";
}

CampaignInfo CampaignState::Info() const {
  CampaignInfo info{.id = id,
                    .settings = settings,
                    .created = absl::FromUnixMillis(created_ms),
                    .closed = closed,
                    .paused = paused,
                    .cancelled = cancelled,
                    .counters = counters};
  const CampaignCounters& c = counters;
  if (cancelled) {
    info.status = CampaignStatus::kCancelled;
  } else if (closed && c.finals() >= c.accepted) {
    info.status = CampaignStatus::kCompleted;
  } else if (paused) {
    info.status = CampaignStatus::kPaused;
  } else if (!closed) {
    info.status = CampaignStatus::kOpen;
  } else if (c.finals() + c.deferrals == 0) {
    info.status = CampaignStatus::kClosed;
  } else {
    info.status = CampaignStatus::kRunning;
  }
  return info;
}

void AddCounters(CampaignCounters& c, const CampaignCounters& delta, int sign) {
  CampaignCounters copy = delta;
  for (uint32_t f = 10; f < kCounterFieldEnd; ++f) {
    uint64_t d = *CounterField(copy, f);
    uint64_t* v = CounterField(c, f);
    *v = sign > 0 ? *v + d : *v - d;
  }
}

CampaignState* CampaignTable::Add(CampaignId id) {
  auto& slot = map_[id];
  if (!slot) {
    slot = std::make_unique<CampaignState>();
    slot->id = id;
  }
  return slot.get();
}

std::string EncodeCampaignState(const CampaignState& s) {
  std::string out(1, static_cast<char>(kFormatVersion));
  FieldWriter w(&out);
  w.Varint(1, static_cast<uint64_t>(s.created_ms));
  w.VarintIfSet(2, (s.closed ? kClosedBit : 0) | (s.paused ? kPausedBit : 0) |
                       (s.cancelled ? kCancelledBit : 0));
  CampaignCounters c = s.counters;
  for (uint32_t f = 10; f < kCounterFieldEnd; ++f) w.VarintIfSet(f, *CounterField(c, f));
  return out;
}

absl::Status DecodeCampaignState(std::string_view value, CampaignState* s) {
  absl::StatusOr<std::string_view> body = Body(value, "campaign");
  if (!body.ok()) return body.status();
  FieldReader r(*body);
  Field f;
  while (r.Next(&f)) {
    if (f.type != wire::kVarint) continue;
    if (f.number == 1) {
      s->created_ms = static_cast<int64_t>(f.varint);
    } else if (f.number == 2) {
      s->closed = f.varint & kClosedBit;
      s->paused = f.varint & kPausedBit;
      s->cancelled = f.varint & kCancelledBit;
    } else if (uint64_t* v = CounterField(s->counters, f.number)) {
      *v = f.varint;
    }
  }
  return r.status();
}

std::string EncodeCampaignSettings(const CampaignSettings& settings) {
  std::string out;
  EncodeCampaign(Campaign{.settings = settings}, &out);
  return out;
}

absl::StatusOr<CampaignSettings> DecodeCampaignSettings(std::string_view value) {
  absl::StatusOr<Content> c = DecodeContent(value);
  if (!c.ok()) return c.status();
  if (!std::holds_alternative<Campaign>(*c)) return Damaged("campaign settings", "not a campaign");
  return std::get<Campaign>(*c).settings;
}

OutcomeClass ClassOfReason(std::string_view reason) {
  if (reason == kCancelledReason) return OutcomeClass::kCancelled;
  if (reason == "suppressed" || reason.starts_with("suppressed:")) return OutcomeClass::kSuppressed;
  return OutcomeClass::kPlain;
}

std::string EncodeCampaignEventRef(const CampaignEventRef& ref) {
  std::string out(1, static_cast<char>(kFormatVersion));
  FieldWriter w(&out);
  w.Bytes(1, ref.recipient.Bytes());
  w.Varint(2, static_cast<uint64_t>(ref.kind));
  w.VarintIfSet(3, static_cast<uint64_t>(ref.cls));
  w.Varint(4, static_cast<uint64_t>(ref.time_ms));
  w.VarintIfSet(5, static_cast<uint64_t>(ref.code));
  w.BytesIfSet(6, ref.enhanced_status);
  w.BytesIfSet(7, ref.domain);
  if (ref.feedback) {
    w.Varint(8, static_cast<uint64_t>(*ref.feedback));
    w.BytesIfSet(9, ref.category);
    w.BytesIfSet(10, ref.address);
    w.BytesIfSet(11, ref.detail);
  }
  return out;
}

absl::StatusOr<CampaignEventRef> DecodeCampaignEventRef(std::string_view value) {
  absl::StatusOr<std::string_view> body = Body(value, "campaign event");
  if (!body.ok()) return body.status();
  CampaignEventRef ref;
  FieldReader r(*body);
  Field f;
  while (r.Next(&f)) {
    switch (f.number) {
      case 1:
        if (auto id = RecipientId::FromBytes(f.bytes)) ref.recipient = *id;
        break;
      case 2:
        ref.kind = static_cast<RecipientState>(f.varint <= 4 ? f.varint : 3);
        break;
      case 3:
        ref.cls = static_cast<OutcomeClass>(f.varint <= 2 ? f.varint : 0);
        break;
      case 4:
        ref.time_ms = static_cast<int64_t>(f.varint);
        break;
      case 5:
        ref.code = static_cast<int>(f.varint);
        break;
      case 6:
        ref.enhanced_status.assign(f.bytes.data(), f.bytes.size());
        break;
      case 7:
        ref.domain.assign(f.bytes.data(), f.bytes.size());
        break;
      case 8:
        if (f.varint >= 1 && f.varint <= 3) ref.feedback = static_cast<FeedbackKind>(f.varint);
        break;
      case 9:
        ref.category.assign(f.bytes.data(), f.bytes.size());
        break;
      case 10:
        ref.address.assign(f.bytes.data(), f.bytes.size());
        break;
      case 11:
        ref.detail.assign(f.bytes.data(), f.bytes.size());
        break;
      default:
        break;
    }
  }
  if (!r.status().ok()) return r.status();
  return ref;
}

CampaignEventRef RefOf(const DeliveryEvent& e) {
  return CampaignEventRef{.recipient = e.recipient,
                          .kind = e.kind,
                          .cls = ClassOfReason(e.reason),
                          .time_ms = absl::ToUnixMillis(e.time),
                          .code = e.response.code,
                          .enhanced_status = e.response.enhanced_status,
                          .domain = AddressDomain(e.address)};
}

DeliveryEvent FeedbackEventOf(const CampaignEventRef& ref, EventId id, CampaignId campaign) {
  return DeliveryEvent{.id = id,
                       .recipient = ref.recipient,
                       .content = campaign,
                       .kind = RecipientState::kDelivered,
                       .time = absl::FromUnixMillis(ref.time_ms),
                       .address = ref.address,
                       .reason = ref.detail,
                       .feedback = ref.feedback,
                       .category = ref.category};
}

CampaignCounters DeltaOf(RecipientState kind, OutcomeClass cls, bool was_deferred) {
  CampaignCounters d;
  if (kind == RecipientState::kDeferred) {
    ++d.deferrals;
    if (!was_deferred) ++d.deferred;
    return d;
  }
  // Final: leaves the deferred count if it was in it. A negative delta is
  // applied by subtraction: AddCounters with unsigned wrap-around is exact.
  if (was_deferred) d.deferred = static_cast<uint64_t>(-1);
  if (kind == RecipientState::kDelivered) {
    ++d.delivered;
  } else if (kind == RecipientState::kExpired) {
    ++d.expired;
  } else if (cls == OutcomeClass::kSuppressed) {
    ++d.suppressed;
  } else if (cls == OutcomeClass::kCancelled) {
    ++d.cancelled;
  } else {
    ++d.failed;
  }
  return d;
}

}  // namespace salvo::queue
