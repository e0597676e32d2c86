#include "engine/dsn/bounce_parse.h"

#include <gmime/gmime.h>

#include <array>
#include <memory>
#include <mutex>

#include "engine/dsn/header_fields.h"
#include "engine/dsn/plain_bounce.h"

namespace salvo::dsn {
namespace {

struct GObjectUnref {
  void operator()(void* p) const {
    if (p != nullptr) g_object_unref(p);
  }
};
template <typename T>
using GRef = std::unique_ptr<T, GObjectUnref>;
struct GFree {
  void operator()(char* p) const { g_free(p); }
};
using GCharPtr = std::unique_ptr<char, GFree>;

void InitGMimeOnce() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

// What the MIME walk found, as decoded text.
struct Parts {
  std::vector<std::string> delivery_status;
  std::vector<std::string> feedback_reports;
  std::vector<std::string> original_headers;
  std::vector<std::string> texts;
  size_t visited = 0;
  bool truncated = false;
  std::string truncation;
};

class MimeWalker {
 public:
  MimeWalker(const BounceLimits& limits, Parts& parts) : limits_(limits), parts_(parts) {}

  void Walk(GMimeObject* object, int depth) {
    if (object == nullptr) return;
    if (depth > limits_.max_mime_depth) return Truncate("depth");
    if (++parts_.visited > limits_.max_mime_parts) return Truncate("parts");
    GMimeContentType* type = g_mime_object_get_content_type(object);
    if (GMIME_IS_MULTIPART(object)) {
      auto* multipart = GMIME_MULTIPART(object);
      int count = g_mime_multipart_get_count(multipart);
      for (int i = 0; i < count && parts_.visited <= limits_.max_mime_parts; ++i) {
        Walk(g_mime_multipart_get_part(multipart, i), depth + 1);
      }
    } else if (GMIME_IS_MESSAGE_PART(object)) {
      // The returned original: its headers are the correlation hints; its
      // body is the sender's and is not searched for bounce text.
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
      if (inner != nullptr) {
        GCharPtr headers(g_mime_object_get_headers(GMIME_OBJECT(inner), nullptr));
        if (headers) parts_.original_headers.emplace_back(headers.get());
      }
    } else if (GMIME_IS_PART(object) && type != nullptr) {
      Leaf(GMIME_PART(object), type);
    }
  }

 private:
  void Truncate(const char* why) {
    if (!parts_.truncated) parts_.truncation = why;
    parts_.truncated = true;
  }

  static std::string Content(GMimePart* part) {
    GMimeDataWrapper* wrapper = g_mime_part_get_content(part);
    if (wrapper == nullptr) return {};
    GRef<GMimeStream> stream(g_mime_stream_mem_new());
    g_mime_data_wrapper_write_to_stream(wrapper, stream.get());
    GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream.get()));
    return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
  }

  void Leaf(GMimePart* part, GMimeContentType* type) {
    auto is = [type](const char* media, const char* sub) {
      return g_mime_content_type_is_type(type, media, sub) != FALSE;
    };
    if (is("message", "delivery-status") || is("message", "global-delivery-status")) {
      parts_.delivery_status.push_back(Content(part));
    } else if (is("message", "feedback-report")) {
      parts_.feedback_reports.push_back(Content(part));
    } else if (is("text", "rfc822-headers") || is("message", "global-headers")) {
      parts_.original_headers.push_back(Content(part));
    } else if (is("text", "plain") && !GMIME_IS_TEXT_PART(part)) {
      parts_.texts.push_back(Content(part));
    } else if (is("text", "plain")) {
      GCharPtr text(g_mime_text_part_get_text(GMIME_TEXT_PART(part)));
      parts_.texts.emplace_back(text ? text.get() : "");
    }
  }

  const BounceLimits& limits_;
  Parts& parts_;
};

// GMime's parser recurses per nesting level before our walk can refuse, so a
// MIME bomb is refused up front: every level needs a Content-Type header
// naming a multipart or message type, and those are counted (name matched at
// a line start, value read across folds).
bool TooManyStructuralMarkers(std::string_view message, size_t limit) {
  constexpr std::string_view kName = "content-type";
  size_t count = 0;
  size_t line = 0;
  while (line < message.size()) {
    size_t eol = message.find('\n', line);
    if (StartsWithIgnoreCase(message.substr(line), kName)) {
      size_t end = eol;
      while (end != std::string_view::npos && end + 1 < message.size() &&
             (message[end + 1] == ' ' || message[end + 1] == '\t') && end - line < 1024) {
        end = message.find('\n', end + 1);
      }
      std::string_view value =
          message.substr(line, end == std::string_view::npos ? end : end - line);
      if ((ContainsIgnoreCase(value, "multipart") || ContainsIgnoreCase(value, "message")) &&
          ++count > limit) {
        return true;
      }
    }
    if (eol == std::string_view::npos) break;
    line = eol + 1;
  }
  return false;
}

const BounceRules& Rules(const BounceLimits& limits) {
  static const BounceRules kBuiltIn;
  return limits.rules != nullptr ? *limits.rules : kBuiltIn;
}

std::string Header(GMimeObject* object, const char* name) {
  const char* value = g_mime_object_get_header(object, name);
  return value == nullptr ? std::string() : OneLine(value);
}

void AddRecipient(BounceReport& report, BouncedRecipient recipient, const BounceLimits& limits) {
  if (report.recipients.size() >= limits.max_recipients) {
    if (!report.truncated) report.truncation = "recipients";
    report.truncated = true;
    return;
  }
  report.recipients.push_back(std::move(recipient));
}

BouncedRecipient FromDsnFields(const FieldBlock& block, const BounceRules& rules) {
  BouncedRecipient r;
  r.address = StripAddressType(FindField(block, "Final-Recipient").value_or(""));
  r.original_recipient = StripAddressType(FindField(block, "Original-Recipient").value_or(""));
  if (r.address.empty()) r.address = r.original_recipient;
  r.action = ToLower(Trim(FindField(block, "Action").value_or("")));
  r.status = FindEnhancedStatus(FindField(block, "Status").value_or(""));
  r.remote_mta = StripAddressType(FindField(block, "Remote-MTA").value_or(""));
  std::string_view diagnostic = FindField(block, "Diagnostic-Code").value_or("");
  size_t semi = diagnostic.find(';');
  if (semi != std::string_view::npos && semi < 12) diagnostic = diagnostic.substr(semi + 1);
  r.diagnostic = OneLine(Trim(diagnostic.substr(0, kMaxDiagnostic)));
  if (r.action.empty() && !r.status.empty()) {
    r.action = r.status[0] == '5' ? "failed" : r.status[0] == '4' ? "delayed" : "";
  }
  // A generic x.0.0 status says less than the server's own enhanced code.
  std::string status = r.status;
  std::string from_text = FindEnhancedStatus(r.diagnostic);
  if ((status.empty() || status.ends_with(".0.0")) && !from_text.empty() &&
      (status.empty() || from_text[0] == status[0])) {
    status = from_text;
  }
  r.classification = rules.Classify(status, FindReplyCode(r.diagnostic), r.diagnostic);
  if (r.action == "delayed" && r.classification.category == BounceCategory::kHard) {
    r.classification.category = BounceCategory::kSoft;
  }
  return r;
}

void ReadDeliveryStatus(const Parts& parts, const BounceLimits& limits, BounceReport& report) {
  for (const std::string& body : parts.delivery_status) {
    bool truncated = false;
    std::vector<FieldBlock> blocks = ParseFieldBlocks(body, limits.max_recipients + 1, &truncated);
    if (truncated) {
      report.truncated = true;
      report.truncation = "recipients";
    }
    for (size_t i = 0; i < blocks.size(); ++i) {
      const FieldBlock& block = blocks[i];
      bool per_recipient = FindField(block, "Final-Recipient") || FindField(block, "Action");
      if (!per_recipient) {
        if (report.reporting_mta.empty()) {
          report.reporting_mta = StripAddressType(FindField(block, "Reporting-MTA").value_or(""));
        }
        if (report.original_envelope_id.empty()) {
          report.original_envelope_id =
              OneLine(Trim(FindField(block, "Original-Envelope-Id").value_or("")));
        }
        continue;
      }
      BouncedRecipient r = FromDsnFields(block, Rules(limits));
      if (r.address.empty() || (r.action != "failed" && r.action != "delayed")) continue;
      AddRecipient(report, std::move(r), limits);
    }
  }
}

void ReadFeedbackReport(const Parts& parts, const BounceLimits& limits, BounceReport& report) {
  std::vector<FieldBlock> blocks = ParseFieldBlocks(parts.feedback_reports.front(), 1, nullptr);
  FieldBlock fields = blocks.empty() ? FieldBlock() : blocks.front();
  report.feedback_type = ToLower(Trim(FindField(fields, "Feedback-Type").value_or("abuse")));
  report.reporting_mta = StripAddressType(FindField(fields, "Reporting-MTA").value_or(""));
  std::vector<std::string> addresses;
  for (const Field& field : fields) {
    if (EqualsIgnoreCase(field.name, "Original-Rcpt-To")) {
      addresses.push_back(StripAddressType(field.value));
    }
  }
  if (addresses.empty() && !parts.original_headers.empty()) {
    FieldBlock original = ParseHeaderSection(parts.original_headers.front());
    std::string to = FindAddress(FindField(original, "To").value_or(""));
    if (!to.empty()) addresses.push_back(to);
  }
  for (std::string& address : addresses) {
    BouncedRecipient r;
    r.address = std::move(address);
    r.classification = {BounceCategory::kComplaint, BounceReason::kComplaint};
    AddRecipient(report, std::move(r), limits);
  }
}

constexpr std::array<std::string_view, 14> kBounceSubjects{
    "undeliver",           "delivery status notification",
    "returned mail",       "failure notice",
    "delivery failure",    "mail delivery failed",
    "delivery failed",     "not delivered",
    "returned to sender",  "nondeliverable",
    "delivery has failed", "could not be delivered",
    "delivery problem",    "mail system error",
};

bool LooksLikeBounce(GMimeObject* message, std::string_view subject) {
  std::string from = Header(message, "From");
  if (ContainsIgnoreCase(from, "mailer-daemon") || ContainsIgnoreCase(from, "postmaster@") ||
      ContainsIgnoreCase(from, "mail delivery")) {
    return true;
  }
  if (!Header(message, "X-Failed-Recipients").empty()) return true;
  for (std::string_view pattern : kBounceSubjects) {
    if (ContainsIgnoreCase(subject, pattern)) return true;
  }
  return false;
}

constexpr std::array<std::string_view, 12> kAutoReplySubjects{
    "out of office",       "out of the office",    "automatic reply", "auto-reply",
    "autoreply",           "auto reply",           "vacation",        "abwesenheit",
    "réponse automatique", "respuesta automática", "away from",       "auto:",
};

bool LooksLikeAutoReply(GMimeObject* message, std::string_view subject) {
  std::string auto_submitted = ToLower(Trim(Header(message, "Auto-Submitted")));
  if (!auto_submitted.empty() && auto_submitted != "no") return true;
  if (!Header(message, "X-Autoreply").empty() || !Header(message, "X-Autorespond").empty() ||
      !Header(message, "X-Auto-Reply").empty()) {
    return true;
  }
  if (EqualsIgnoreCase(Trim(Header(message, "Precedence")), "auto_reply")) return true;
  for (std::string_view pattern : kAutoReplySubjects) {
    if (ContainsIgnoreCase(subject, pattern)) return true;
  }
  return false;
}

void ReadPlainBounce(GMimeObject* message, const Parts& parts, const BounceLimits& limits,
                     BounceReport& report) {
  for (const std::string& text : parts.texts) {
    bool truncated = false;
    for (PlainBounceHit& hit : ExtractPlainBounce(text, limits.max_recipients, &truncated)) {
      BouncedRecipient r;
      r.address = std::move(hit.address);
      r.diagnostic = std::move(hit.diagnostic);
      r.remote_mta = std::move(hit.remote_mta);
      r.status = FindEnhancedStatus(r.diagnostic);
      r.classification =
          Rules(limits).Classify(r.status, FindReplyCode(r.diagnostic), r.diagnostic);
      r.action = r.classification.category == BounceCategory::kSoft && !r.status.empty() &&
                         r.status[0] == '4'
                     ? "delayed"
                     : "failed";
      AddRecipient(report, std::move(r), limits);
    }
    if (truncated) {
      report.truncated = true;
      report.truncation = "recipients";
    }
    if (!report.recipients.empty()) return;
  }
  // Exim names the failed addresses in a header even when its text is odd.
  std::string failed = Header(message, "X-Failed-Recipients");
  for (std::string& address : FindAddresses(failed, limits.max_recipients)) {
    BouncedRecipient r;
    r.address = std::move(address);
    r.action = "failed";
    r.classification = {BounceCategory::kHard, BounceReason::kOther};
    AddRecipient(report, std::move(r), limits);
  }
}

// Worst over the recipients: hard > soft > unknown.
Classification Overall(const std::vector<BouncedRecipient>& recipients) {
  Classification worst;
  for (const BouncedRecipient& r : recipients) {
    BounceCategory c = r.classification.category;
    if (worst.category == BounceCategory::kUnknown ||
        (c == BounceCategory::kHard && worst.category != BounceCategory::kHard)) {
      if (c != BounceCategory::kUnknown) worst = r.classification;
    }
  }
  return worst;
}

std::string FindVerp(std::string_view text, std::string_view prefix) {
  for (const std::string& address : FindAddresses(text, 64)) {
    if (StartsWithIgnoreCase(address, prefix)) return address;
  }
  return {};
}

void FindCorrelation(GMimeObject* message, const Parts& parts, const BounceLimits& limits,
                     BounceReport& report) {
  for (const char* name : {"To", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To"}) {
    if (report.verp_address.empty())
      report.verp_address = FindVerp(Header(message, name), limits.verp_prefix);
  }
  for (const std::string& headers : parts.original_headers) {
    FieldBlock original = ParseHeaderSection(headers);
    if (report.verp_address.empty()) {
      report.verp_address =
          FindVerp(FindField(original, "Return-Path").value_or(""), limits.verp_prefix);
    }
    if (report.original_message_id.empty()) {
      report.original_message_id = OneLine(Trim(FindField(original, "Message-ID").value_or("")));
    }
  }
  for (const std::string& text : parts.texts) {
    if (report.verp_address.empty()) report.verp_address = FindVerp(text, limits.verp_prefix);
    if (!report.original_message_id.empty()) continue;
    size_t at = 0;
    while ((at = text.find(':', at + 1)) != std::string::npos && at >= 10) {
      size_t line_start = text.rfind('\n', at);
      line_start = line_start == std::string::npos ? 0 : line_start + 1;
      if (at - line_start == 10 &&
          StartsWithIgnoreCase(std::string_view(text).substr(line_start), "Message-ID")) {
        size_t eol = text.find('\n', at);
        report.original_message_id = OneLine(Trim(
            std::string_view(text).substr(at + 1, eol == std::string::npos ? eol : eol - at - 1)));
        break;
      }
    }
  }
  if (report.original_message_id.empty() && report.kind == BounceKind::kAutoReply) {
    report.original_message_id = Header(message, "In-Reply-To");
  }
}

void Classify(GMimeMessage* message, const Parts& parts, const BounceLimits& limits,
              BounceReport& report) {
  GMimeObject* object = GMIME_OBJECT(message);
  const char* raw_subject = g_mime_message_get_subject(message);
  std::string subject = raw_subject == nullptr ? std::string() : raw_subject;
  if (!parts.delivery_status.empty()) {
    report.kind = BounceKind::kDsn;
    ReadDeliveryStatus(parts, limits, report);
    report.classification = Overall(report.recipients);
  } else if (!parts.feedback_reports.empty()) {
    report.kind = BounceKind::kArfComplaint;
    ReadFeedbackReport(parts, limits, report);
    report.classification = {BounceCategory::kComplaint, BounceReason::kComplaint};
  } else if (LooksLikeBounce(object, subject)) {
    ReadPlainBounce(object, parts, limits, report);
    if (!report.recipients.empty()) {
      report.kind = BounceKind::kDsn;
      report.non_standard = true;
      report.classification = Overall(report.recipients);
    }
  }
  if (report.kind == BounceKind::kUnknown && LooksLikeAutoReply(object, subject)) {
    report.kind = BounceKind::kAutoReply;
    report.classification = {BounceCategory::kAutoReply, BounceReason::kAutoReply};
  }
}

}  // namespace

std::string_view KindName(BounceKind kind) {
  switch (kind) {
    case BounceKind::kUnknown:
      return "unknown";
    case BounceKind::kDsn:
      return "dsn";
    case BounceKind::kArfComplaint:
      return "arf_complaint";
    case BounceKind::kAutoReply:
      return "auto_reply";
  }
  return "unknown";
}

BounceReport ParseBounce(std::string_view message, const BounceLimits& limits) {
  BounceReport report;
  if (message.size() > limits.max_message_bytes) {
    report.truncated = true;
    report.truncation = "size";
    return report;
  }
  if (TooManyStructuralMarkers(message, limits.max_mime_parts)) {
    report.truncated = true;
    report.truncation = "parts";
    return report;
  }
  InitGMimeOnce();
  GRef<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(message.data(), message.size()));
  GRef<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  GRef<GMimeMessage> parsed(g_mime_parser_construct_message(parser.get(), nullptr));
  if (!parsed) return report;
  Parts parts;
  MimeWalker(limits, parts).Walk(g_mime_message_get_mime_part(parsed.get()), 0);
  Classify(parsed.get(), parts, limits, report);
  FindCorrelation(GMIME_OBJECT(parsed.get()), parts, limits, report);
  if (parts.truncated && !report.truncated) {
    report.truncated = true;
    report.truncation = parts.truncation;
  }
  return report;
}

}  // namespace salvo::dsn
