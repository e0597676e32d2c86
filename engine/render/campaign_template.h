// CampaignTemplate: a campaign's message, parsed once and rendered for each
// recipient at delivery time (Mustache syntax; kainjow's implementation).
//
// Compile() checks every template and header once and reports the field at
// fault. Render() writes RFC 5322 bytes (CRLF, MIME multipart when there are
// several parts or attachments) into a caller-owned buffer that the delivery
// session reuses, so a recipient costs no copy of the template beyond what is
// sent. Variables come from the recipient's JSON object; text and headers are
// not escaped, HTML is. Rendered header values never carry CR/LF (header
// injection) and non-ASCII text is RFC 2047 encoded. Attachments are base64
// encoded once at compile time.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json_fwd.hpp"

namespace salvo::render {

struct Attachment {
  std::string filename;
  std::string content_type;  // e.g. "application/pdf"
  std::string content;       // raw bytes
};

struct TemplateSpec {
  std::string from;  // "Name <addr@domain>" or "addr@domain"; may use variables
  std::string subject;
  std::string text;  // text/plain part (optional if html is set)
  std::string html;  // text/html part (optional if text is set)
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::vector<Attachment> attachments;
};

// What differs per message besides the variables.
struct MessageContext {
  std::string_view to;                                             // the recipient address
  std::string_view message_id;                                     // without angle brackets
  std::string_view date;                                           // RFC 5322 date-time
  std::vector<std::pair<std::string, std::string>> extra_headers;  // e.g. List-Unsubscribe
};

class CampaignTemplate {
 public:
  static absl::StatusOr<std::unique_ptr<CampaignTemplate>> Compile(const TemplateSpec& spec);
  ~CampaignTemplate();

  // Renders the message for one recipient into `out` (cleared first).
  absl::Status Render(const nlohmann::json& variables, const MessageContext& ctx,
                      std::string& out) const;

  // True when the body (text, html, attachments) uses no variables: it is
  // then the same bytes for every recipient (MIME boundaries included), so a
  // DKIM body hash computed once serves the whole campaign.
  bool static_body() const;
  // True when the template sets header `name` itself (case-insensitive).
  bool HasHeader(std::string_view name) const;

 private:
  struct Compiled;
  explicit CampaignTemplate(std::unique_ptr<Compiled> c);
  std::unique_ptr<Compiled> c_;
};

// "Sun, 22 Nov 2026 19:31:08 +0000" for the given Unix time.
std::string Rfc5322Date(int64_t unix_seconds);

}  // namespace salvo::render
