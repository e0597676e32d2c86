#include "bounce/bounce_filing.h"

#include "fmt/format.h"

namespace salvo::bounce {
namespace {

std::string_view ReasonLabel(dsn::BounceReason reason) {
  using dsn::BounceReason;
  switch (reason) {
    case BounceReason::kNoSuchUser:
      return "bad-mailbox";
    case BounceReason::kBadDomain:
      return "bad-domain";
    case BounceReason::kInactiveMailbox:
      return "inactive-mailbox";
    case BounceReason::kMailboxFull:
      return "quota-issues";
    case BounceReason::kSpamBlock:
      return "spam-related";
    case BounceReason::kPolicy:
      return "policy-related";
    case BounceReason::kContent:
      return "content-related";
    case BounceReason::kVirus:
      return "virus-related";
    case BounceReason::kDns:
    case BounceReason::kRouting:
      return "routing-errors";
    case BounceReason::kRelaying:
      return "relaying-issues";
    case BounceReason::kProtocol:
      return "protocol-errors";
    case BounceReason::kExpired:
      return "message-expired";
    case BounceReason::kComplaint:
      return "complaint";
    case BounceReason::kAutoReply:
      return "auto-reply";
    case BounceReason::kOther:
      return "other";
    case BounceReason::kNone:
      break;
  }
  return "";
}

}  // namespace

std::string_view FolderFor(const dsn::BounceReport& report) {
  switch (report.kind) {
    case dsn::BounceKind::kArfComplaint:
      return kFolderComplaints;
    case dsn::BounceKind::kAutoReply:
      return kFolderAutoReplies;
    case dsn::BounceKind::kUnknown:
      return kFolderUnparsed;
    case dsn::BounceKind::kDsn:
      break;
  }
  switch (report.classification.category) {
    case dsn::BounceCategory::kHard:
      return kFolderHard;
    case dsn::BounceCategory::kSoft:
      return kFolderSoft;
    case dsn::BounceCategory::kComplaint:
      return kFolderComplaints;
    case dsn::BounceCategory::kAutoReply:
      return kFolderAutoReplies;
    case dsn::BounceCategory::kUnknown:
      break;
  }
  return kFolderUnparsed;
}

std::string CategoryLabel(const dsn::Classification& c) {
  std::string_view label = ReasonLabel(c.reason);
  if (!label.empty()) return std::string(label);
  switch (c.category) {
    case dsn::BounceCategory::kComplaint:
      return "complaint";
    case dsn::BounceCategory::kAutoReply:
      return "auto-reply";
    case dsn::BounceCategory::kHard:
    case dsn::BounceCategory::kSoft:
      return "other";
    case dsn::BounceCategory::kUnknown:
      break;
  }
  return "unparsed";
}

std::string CategoryLabel(const dsn::BounceReport& report) {
  if (report.kind == dsn::BounceKind::kArfComplaint) return "complaint";
  if (report.kind == dsn::BounceKind::kAutoReply) return "auto-reply";
  if (report.kind == dsn::BounceKind::kUnknown) return "unparsed";
  return CategoryLabel(report.classification);
}

std::string OneLine(std::string_view text, size_t max) {
  std::string out;
  out.reserve(std::min(text.size(), max));
  for (char c : text) {
    if (out.size() >= max) break;
    auto u = static_cast<unsigned char>(c);
    if (u == '\r' || u == '\n' || u == '\t') {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else if (u >= 0x20 && u != 0x7f) {
      out.push_back(c);
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string StampHeaders(const BounceStamp& stamp) {
  std::string out;
  auto field = [&out](std::string_view name, std::string_view value) {
    std::string line = OneLine(value);
    if (!line.empty()) out += fmt::format("{}: {}\r\n", name, line);
  };
  field("X-Salvo-Category", stamp.category);
  field("X-Salvo-Bounce-Kind", stamp.kind);
  field("X-Salvo-Campaign", stamp.campaign);
  field("X-Salvo-Recipient", stamp.recipient);
  field("X-Salvo-Recipient-Id", stamp.recipient_id);
  field("X-Salvo-Verp", stamp.verified ? "verified" : "none");
  return out;
}

}  // namespace salvo::bounce
