#include "engine/dsn/dsn_compose.h"

#include <ctime>
#include <functional>

#include "absl/status/status.h"
#include "engine/dsn/header_fields.h"
#include "fmt/format.h"

namespace salvo::dsn {
namespace {

constexpr size_t kMaxFieldValue = 900;  // keeps every line under 998 octets

bool IsAscii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// One line, ASCII only (RFC 3464 fields are US-ASCII), bounded length.
std::string FieldValue(std::string_view text) {
  std::string out = OneLine(Trim(text));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) >= 0x80) c = '?';
  }
  if (out.size() > kMaxFieldValue) out.resize(kMaxFieldValue);
  return out;
}

// "rfc822;a@b" for ASCII addresses, RFC 6533 "utf-8;" otherwise.
std::string TypedAddress(std::string_view address) {
  std::string one = OneLine(Trim(address));
  if (one.size() > kMaxFieldValue) one.resize(kMaxFieldValue);
  return fmt::format("{}; {}", IsAscii(one) ? "rfc822" : "utf-8", one);
}

std::string OriginalRecipientField(std::string_view orcpt) {
  std::string one = OneLine(Trim(orcpt));
  if (one.size() > kMaxFieldValue) one.resize(kMaxFieldValue);
  if (one.find(';') == std::string::npos) return TypedAddress(one);
  return one;
}

std::string ToCrlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out += '\r';
    out += text[i];
  }
  if (!out.empty() && out.back() != '\n') out += "\r\n";
  return out;
}

std::string_view HeaderSection(std::string_view message) {
  size_t lf = message.find("\n\n");
  size_t crlf = message.find("\r\n\r\n");
  if (crlf != std::string_view::npos && (lf == std::string_view::npos || crlf < lf)) {
    return message.substr(0, crlf + 2);
  }
  return lf == std::string_view::npos ? message : message.substr(0, lf + 1);
}

std::string Subject(const DsnInput& input) {
  bool failed = false;
  bool delayed = false;
  for (const DsnRecipient& r : input.recipients) {
    failed |= r.action == DsnAction::kFailed;
    delayed |= r.action == DsnAction::kDelayed;
  }
  if (failed) return "Undelivered Mail Returned to Sender";
  if (delayed) return "Delayed Mail (still being retried)";
  return "Successful Mail Delivery Report";
}

std::string HumanReadable(const DsnInput& input) {
  std::string text =
      fmt::format("This is the mail system at host {}.\r\n\r\n", FieldValue(input.reporting_mta));
  for (const DsnRecipient& r : input.recipients) {
    std::string_view what = r.action == DsnAction::kFailed    ? "could not be delivered"
                            : r.action == DsnAction::kDelayed ? "has not yet been delivered; "
                                                                "delivery will be retried"
                                                              : "was delivered";
    text += fmt::format("Your message to <{}> {}.\r\n", FieldValue(r.address), what);
    if (!r.diagnostic.empty()) {
      text += fmt::format("    {}{}\r\n",
                          r.remote_mta.empty() ? "" : FieldValue(r.remote_mta) + " said: ",
                          FieldValue(r.diagnostic));
    }
    text += "\r\n";
  }
  text += "The delivery report is attached in machine-readable form.\r\n";
  return text;
}

void AppendRecipientFields(const DsnRecipient& r, std::string& out) {
  out += "\r\n";
  out += fmt::format("Final-Recipient: {}\r\n", TypedAddress(r.address));
  if (!r.original_recipient.empty()) {
    out += fmt::format("Original-Recipient: {}\r\n", OriginalRecipientField(r.original_recipient));
  }
  out += fmt::format("Action: {}\r\n", ActionName(r.action));
  std::string status = FieldValue(r.status);
  if (status.empty())
    status = r.action == DsnAction::kFailed    ? "5.0.0"
             : r.action == DsnAction::kDelayed ? "4.0.0"
                                               : "2.0.0";
  out += fmt::format("Status: {}\r\n", status);
  if (!r.remote_mta.empty())
    out += fmt::format("Remote-MTA: dns; {}\r\n", FieldValue(r.remote_mta));
  if (!r.diagnostic.empty()) {
    out += fmt::format("Diagnostic-Code: smtp; {}\r\n", FieldValue(r.diagnostic));
  }
  if (r.last_attempt) {
    out += fmt::format("Last-Attempt-Date: {}\r\n", FormatRfc5322Date(*r.last_attempt));
  }
  if (r.will_retry_until) {
    out += fmt::format("Will-Retry-Until: {}\r\n", FormatRfc5322Date(*r.will_retry_until));
  }
}

std::string DeliveryStatus(const DsnInput& input) {
  std::string out = fmt::format("Reporting-MTA: dns; {}\r\n", FieldValue(input.reporting_mta));
  if (!input.envid.empty()) {
    out += fmt::format("Original-Envelope-Id: {}\r\n", FieldValue(input.envid));
  }
  out += fmt::format("Arrival-Date: {}\r\n", FormatRfc5322Date(input.arrival));
  for (const DsnRecipient& r : input.recipients) AppendRecipientFields(r, out);
  return out;
}

// The third part: the whole original for RET=FULL (if small enough), else
// its header section.
std::string ReturnedPart(const DsnInput& input) {
  bool full = input.ret == DsnReturn::kFull && input.original.size() <= input.max_returned_bytes;
  std::string content =
      ToCrlf(full ? std::string_view(input.original) : HeaderSection(input.original));
  std::string part = fmt::format("Content-Type: {}\r\nContent-Description: {}\r\n",
                                 full ? "message/rfc822" : "text/rfc822-headers",
                                 full ? "Undelivered Message" : "Undelivered Message Headers");
  if (!IsAscii(content)) part += "Content-Transfer-Encoding: 8bit\r\n";
  part += "\r\n";
  part += content;
  return part;
}

absl::StatusOr<std::string> PickBoundary(const DsnInput& input, std::string_view returned) {
  size_t seed = std::hash<std::string>{}(input.message_id_seed + input.envelope_sender);
  for (int attempt = 0; attempt < 64; ++attempt) {
    std::string boundary = fmt::format("=_salvo-dsn-{:016x}-{}", seed, attempt);
    if (returned.find(boundary) == std::string_view::npos) return boundary;
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  }
  return absl::InternalError("no MIME boundary absent from the original");
}

}  // namespace

std::string_view ActionName(DsnAction action) {
  switch (action) {
    case DsnAction::kFailed:
      return "failed";
    case DsnAction::kDelayed:
      return "delayed";
    case DsnAction::kDelivered:
      return "delivered";
    case DsnAction::kRelayed:
      return "relayed";
    case DsnAction::kExpanded:
      return "expanded";
  }
  return "failed";
}

absl::StatusOr<DsnNotify> ParseNotify(std::string_view value) {
  DsnNotify notify;
  notify.specified = true;
  std::string_view rest = value;
  while (true) {
    size_t comma = rest.find(',');
    std::string_view word = Trim(rest.substr(0, comma));
    if (EqualsIgnoreCase(word, "NEVER")) {
      notify.never = true;
    } else if (EqualsIgnoreCase(word, "SUCCESS")) {
      notify.success = true;
    } else if (EqualsIgnoreCase(word, "FAILURE")) {
      notify.failure = true;
    } else if (EqualsIgnoreCase(word, "DELAY")) {
      notify.delay = true;
    } else {
      return absl::InvalidArgumentError("NOTIFY: unknown keyword");
    }
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  if (notify.never && (notify.success || notify.failure || notify.delay)) {
    return absl::InvalidArgumentError("NOTIFY: NEVER must stand alone");
  }
  return notify;
}

std::string FormatRfc5322Date(SystemTime when) {
  std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return std::string(buf, n);
}

std::string DecodeXtext(std::string_view xtext) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < xtext.size(); ++i) {
    if (xtext[i] == '+' && i + 2 < xtext.size() && hex(xtext[i + 1]) >= 0 &&
        hex(xtext[i + 2]) >= 0) {
      out += static_cast<char>(hex(xtext[i + 1]) * 16 + hex(xtext[i + 2]));
      i += 2;
    } else {
      out += xtext[i];
    }
  }
  return out;
}

bool IsDeliveryStatusReport(std::string_view message) {
  FieldBlock headers = ParseHeaderSection(message);
  std::optional<std::string_view> type = FindField(headers, "Content-Type");
  if (!type) return false;
  std::string lower = ToLower(*type);
  if (StartsWithIgnoreCase(lower, "message/delivery-status")) return true;
  if (!StartsWithIgnoreCase(lower, "multipart/report")) return false;
  return lower.find("delivery-status") != std::string::npos;
}

bool ShouldSendDsn(std::string_view envelope_sender, std::string_view original,
                   const DsnNotify& notify, DsnAction action) {
  std::string_view sender = Trim(envelope_sender);
  if (sender.empty() || sender == "<>") return false;
  if (IsDeliveryStatusReport(original)) return false;
  if (notify.never) return false;
  if (!notify.specified) {
    return action == DsnAction::kFailed || action == DsnAction::kDelayed;
  }
  switch (action) {
    case DsnAction::kFailed:
      return notify.failure;
    case DsnAction::kDelayed:
      return notify.delay;
    case DsnAction::kDelivered:
    case DsnAction::kRelayed:
    case DsnAction::kExpanded:
      return notify.success;
  }
  return false;
}

absl::StatusOr<std::string> ComposeDsn(const DsnInput& input) {
  if (input.recipients.empty()) return absl::InvalidArgumentError("DSN without recipients");
  std::string_view sender = Trim(input.envelope_sender);
  if (sender.empty() || sender == "<>") {
    return absl::InvalidArgumentError("no DSN is sent to the null sender");
  }
  std::string returned = ReturnedPart(input);
  absl::StatusOr<std::string> boundary = PickBoundary(input, returned);
  if (!boundary.ok()) return boundary.status();
  std::string host = FieldValue(input.reporting_mta);
  std::string out;
  out.reserve(returned.size() + 4096);
  out += fmt::format("From: Mail Delivery System <MAILER-DAEMON@{}>\r\n", host);
  out += fmt::format("To: <{}>\r\n", OneLine(sender));
  out += fmt::format("Subject: {}\r\n", Subject(input));
  out += fmt::format("Date: {}\r\n", FormatRfc5322Date(input.now));
  out += fmt::format("Message-ID: <dsn.{:016x}@{}>\r\n",
                     std::hash<std::string>{}(input.message_id_seed), host);
  out += "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n";
  out += fmt::format(
      "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{}\"\r\n",
      *boundary);
  out += "\r\nThis is a MIME-encapsulated message.\r\n\r\n";
  out += fmt::format("--{}\r\n", *boundary);
  out += "Content-Type: text/plain; charset=us-ascii\r\nContent-Description: Notification\r\n\r\n";
  out += HumanReadable(input);
  out += fmt::format("\r\n--{}\r\n", *boundary);
  out += "Content-Type: message/delivery-status\r\nContent-Description: Delivery report\r\n\r\n";
  out += DeliveryStatus(input);
  out += fmt::format("\r\n--{}\r\n", *boundary);
  out += returned;
  out += fmt::format("\r\n--{}--\r\n", *boundary);
  return out;
}

}  // namespace salvo::dsn
