// The invariants of POST /v1/messages' field decoding (submission_common.h:
// CheckAddress, EnvelopeAddressOf, ReadHeaders, ReadAttachments,
// ReadVariables) on top of api_checks.h's JSON checks, for the in-suite
// mutation test tests/api/decode_fuzz_test.cc (not the libFuzzer targets:
// submission_common pulls in the spool). "" when all hold, else what broke:
// strings read respect their byte bounds; headers, attachments and variables
// stay within their counts; header values carry no CR/LF/NUL; an address
// CheckAddress accepts is at most 254 octets with an '@'; EnvelopeAddressOf
// yields an address CheckAddress accepts; field problems are 400s.
#pragma once

#include <string>
#include <string_view>

#include "api/handlers/submission_common.h"
#include "tests/fuzz/api_checks.h"

namespace salvo::fuzz {

inline std::string CheckAddressConsistency(std::string_view text) {
  absl::Status s = api::CheckAddress(text);
  if (s.ok() && (text.size() > api::kMaxAddressBytes || text.find('@') == std::string_view::npos)) {
    return fmt::format("CheckAddress accepted '{}'", text);
  }
  if (!s.ok() && !absl::IsInvalidArgument(s)) return "CheckAddress error not InvalidArgument";
  absl::StatusOr<std::string> envelope = api::EnvelopeAddressOf(text);
  if (envelope.ok() && !api::CheckAddress(*envelope).ok()) {
    return fmt::format("EnvelopeAddressOf('{}') = '{}' which CheckAddress refuses", text,
                       *envelope);
  }
  return "";
}

// The fields of POST /v1/messages, read as messages_v1.cc reads them.
inline std::string CheckMessageFields(const nlohmann::json& json) {
  JsonChecker check;
  JsonObjectReader body(json, "", &check);
  std::optional<std::string> from = body.String("from", kRequired, 998);
  std::optional<std::string> subject = body.String("subject", kOptional, 998);
  if ((from && from->size() > 998) || (subject && subject->size() > 998))
    return "string over bound";
  if (from) {
    if (std::string e = CheckAddressConsistency(*from); !e.empty()) return e;
  }
  if (const nlohmann::json* to = body.Array("to", kOptional, api::kMaxMessageRecipients)) {
    if (to->size() > api::kMaxMessageRecipients) return "too many recipients accepted";
    for (const nlohmann::json& v : *to) {
      if (!v.is_string()) continue;
      if (std::string e = CheckAddressConsistency(v.get_ref<const std::string&>()); !e.empty()) {
        return e;
      }
    }
  }
  std::vector<std::pair<std::string, std::string>> headers = api::ReadHeaders(body);
  if (headers.size() > api::kMaxHeaders) return "too many headers accepted";
  for (const auto& [name, value] : headers) {
    if (name.empty() || value.size() > api::kMaxHeaderValueBytes ||
        value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return fmt::format("bad header accepted: {}", name);
    }
  }
  std::vector<render::Attachment> attachments = api::ReadAttachments(body);
  if (attachments.size() > api::kMaxAttachments) return "too many attachments accepted";
  if (const nlohmann::json* vars = body.Object("vars", kOptional)) {
    queue::Variables v = api::ReadVariables(*vars, "vars", &check);
    if (v.size() > api::kMaxVariables) return "too many variables accepted";
  }
  body.Finish();
  absl::Status status = check.ToStatus();
  if (!status.ok() && HttpStatusFor(status) != 400) return "field problems not a 400";
  return "";
}

inline std::string CheckJson(std::string_view text) {
  nlohmann::json json;
  if (std::string e = CheckJsonSyntax(text, &json); !e.empty()) return e;
  return json.is_null() ? "" : CheckMessageFields(json);
}

}  // namespace salvo::fuzz
