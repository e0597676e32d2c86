// MessageBuilder: the RFC 5322 bytes of a single message submitted as fields
// (POST /v1/messages with from/to/subject/text/html/headers/attachments).
//
// Unlike a campaign template, nothing here is a template: text containing
// "{{" goes out as written. Headers are sanitised (no CR/LF can start a new
// field; non-ASCII becomes RFC 2047), bodies are 7bit when they can be and
// quoted-printable otherwise, attachments base64; several parts make a
// multipart/alternative (text + HTML) inside a multipart/mixed (attachments).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/render/campaign_template.h"

namespace salvo::api {

struct MessageFields {
  std::string from;  // "Name <addr>" or "addr"
  std::vector<std::string> to;
  std::string subject;
  std::string text;
  std::string html;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<render::Attachment> attachments;
};

// `message_id` without angle brackets; `boundary_seed` makes the MIME
// boundaries unique to this message.
std::string BuildMessage(const MessageFields& m, std::string_view message_id, int64_t unix_seconds,
                         std::string_view boundary_seed);

// `raw` with every line ending made CRLF and a final CRLF.
std::string NormalizeRawMessage(std::string_view raw);

}  // namespace salvo::api
