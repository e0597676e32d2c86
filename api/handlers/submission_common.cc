#include "api/handlers/submission_common.h"

#include <array>
#include <cctype>

#include "absl/strings/escaping.h"
#include "api/http/api_error.h"
#include "engine/base/strings.h"
#include "engine/smtp/server/address_parser.h"
#include "fmt/format.h"

namespace salvo::api {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

bool IsReservedHeader(std::string_view name) {
  static constexpr std::array<std::string_view, 7> kReserved = {
      "from", "to", "subject", "date", "message-id", "mime-version", "bcc"};
  for (std::string_view r : kReserved) {
    if (EqualsIgnoreCase(name, r)) return true;
  }
  return name.size() >= 8 && EqualsIgnoreCase(name.substr(0, 8), "content-");
}

bool IsFieldName(std::string_view name) {
  if (name.empty() || name.size() > 76) return false;
  for (unsigned char c : name) {
    if (c < 33 || c > 126 || c == ':') return false;
  }
  return true;
}

bool IsMediaType(std::string_view type) {
  size_t slash = type.find('/');
  if (slash == 0 || slash == std::string_view::npos || slash + 1 == type.size()) return false;
  for (unsigned char c : type) {
    if (!std::isalnum(c) && std::string_view("/!#$&^_.+-").find(c) == std::string_view::npos)
      return false;
  }
  return true;
}

}  // namespace

absl::Status CheckAddress(std::string_view address) {
  if (address.empty()) return absl::InvalidArgumentError("the address is empty");
  if (address.size() > kMaxAddressBytes) {
    return absl::InvalidArgumentError(
        fmt::format("the address is longer than {} bytes", kMaxAddressBytes));
  }
  for (unsigned char c : address) {
    if (c < 0x20 || c == 0x7f || c == '<' || c == '>') {
      return absl::InvalidArgumentError("the address contains a control character or '<', '>'");
    }
  }
  std::string path = fmt::format("<{}>", address);
  absl::StatusOr<smtp::ParsedPath> parsed = smtp::ParsePath(path, smtp::PathKind::kForward);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("not a valid address: {}", ToStd(parsed.status().message())));
  }
  if (parsed->domain.empty() || !parsed->rest.empty()) {
    return absl::InvalidArgumentError("not a valid address: it needs local-part@domain");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> EnvelopeAddressOf(std::string_view from) {
  std::string_view address = from;
  if (!from.empty() && from.back() == '>') {
    size_t open = from.rfind('<');
    if (open == std::string_view::npos) return absl::InvalidArgumentError("unbalanced '<' '>'");
    address = from.substr(open + 1, from.size() - open - 2);
  }
  if (address.find("{{") != std::string_view::npos) {
    return absl::InvalidArgumentError("the sender address itself cannot use variables");
  }
  if (absl::Status s = CheckAddress(address); !s.ok()) return s;
  return std::string(address);
}

bool IsVariableName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (unsigned char c : name) {
    if (!std::isalnum(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

std::vector<std::pair<std::string, std::string>> ReadHeaders(JsonObjectReader& object) {
  std::vector<std::pair<std::string, std::string>> out;
  const nlohmann::json* headers = object.Object("headers", kOptional);
  if (headers == nullptr) return out;
  if (headers->size() > kMaxHeaders) {
    object.Problem("headers", "invalid_field", fmt::format("at most {} headers", kMaxHeaders));
    return out;
  }
  for (const auto& [name, value] : headers->items()) {
    if (!IsFieldName(name)) {
      object.Problem("headers", "invalid_header",
                     fmt::format("\"{}\" is not a header field name", name));
    } else if (IsReservedHeader(name)) {
      object.Problem("headers", "invalid_header",
                     fmt::format("\"{}\" is set by the API itself, not in headers", name));
    } else if (!value.is_string()) {
      object.Problem("headers", "invalid_header", fmt::format("\"{}\" must be a string", name));
    } else {
      const std::string& v = value.get_ref<const std::string&>();
      if (v.size() > kMaxHeaderValueBytes || v.find_first_of("\r\n", 0) != std::string::npos ||
          v.find('\0') != std::string::npos) {
        object.Problem("headers", "invalid_header",
                       fmt::format("\"{}\": a value is one line of at most {} bytes", name,
                                   kMaxHeaderValueBytes));
      } else {
        out.emplace_back(name, v);
      }
    }
  }
  return out;
}

std::vector<render::Attachment> ReadAttachments(JsonObjectReader& object) {
  std::vector<render::Attachment> out;
  const nlohmann::json* list = object.Array("attachments", kOptional, kMaxAttachments);
  if (list == nullptr) return out;
  for (size_t i = 0; i < list->size(); ++i) {
    std::string path = object.Path(fmt::format("attachments[{}]", i));
    JsonChecker local;
    JsonObjectReader a((*list)[i], path, &local);
    std::optional<std::string> filename = a.String("filename", kRequired, 255);
    std::optional<std::string> type = a.String("content_type", kRequired, 127);
    std::optional<std::string> content = a.String("content", kRequired, size_t{64} << 20);
    a.Finish();
    if (!local.ok()) {
      object.Problem(fmt::format("attachments[{}]", i), "invalid_field",
                     std::string(local.ToStatus().message()));
      continue;
    }
    render::Attachment att{*filename, *type, ""};
    if (!IsMediaType(*type)) {
      object.Problem(fmt::format("attachments[{}].content_type", i), "invalid_field",
                     "not a media type like \"application/pdf\"");
    } else if (filename->find_first_of("\r\n\"") != std::string::npos) {
      object.Problem(fmt::format("attachments[{}].filename", i), "invalid_field",
                     "a file name has no quotes or line breaks");
    } else if (!absl::Base64Unescape(*content, &att.content)) {
      object.Problem(fmt::format("attachments[{}].content", i), "invalid_field",
                     "not valid base64");
    } else {
      out.push_back(std::move(att));
    }
  }
  return out;
}

queue::Variables ReadVariables(const nlohmann::json& vars, const std::string& path,
                               JsonChecker* checker) {
  queue::Variables out;
  if (!vars.is_object()) {
    checker->Add(path, "invalid_field", "must be an object of name: value");
    return out;
  }
  if (vars.size() > kMaxVariables) {
    checker->Add(path, "invalid_field", fmt::format("at most {} variables", kMaxVariables));
    return out;
  }
  for (const auto& [name, value] : vars.items()) {
    std::string field = fmt::format("{}.{}", path, name);
    if (!IsVariableName(name)) {
      checker->Add(field, "invalid_field", "a variable name is 1-64 of A-Z a-z 0-9 _ . -");
      continue;
    }
    std::string text;
    if (value.is_string()) {
      text = value.get<std::string>();
    } else if (value.is_number() || value.is_boolean()) {
      text = value.dump();
    } else if (!value.is_null()) {
      checker->Add(field, "invalid_field", "must be a string, number, boolean or null");
      continue;
    }
    if (text.size() > kMaxVariableBytes) {
      checker->Add(field, "invalid_field", fmt::format("longer than {} bytes", kMaxVariableBytes));
      continue;
    }
    out.emplace_back(name, std::move(text));
  }
  return out;
}

absl::Status SpoolFailure(const absl::Status& status, nlohmann::json details) {
  nlohmann::json list = nlohmann::json::array();
  if (!details.is_null()) list.push_back(std::move(details));
  std::string message(ToStd(status.message()));
  switch (status.code()) {
    case absl::StatusCode::kResourceExhausted:
      return ApiError(507, "insufficient_storage",
                      "the spool is short of disk space; nothing of this request was accepted "
                      "beyond what details say; retry later",
                      std::move(list));
    case absl::StatusCode::kUnavailable:
      return ApiError(503, "unavailable", "the spool cannot accept now; retry later",
                      std::move(list));
    case absl::StatusCode::kNotFound:
      return ApiError(404, "not_found", message, std::move(list));
    case absl::StatusCode::kFailedPrecondition:
      return ApiError(409, "conflict", message, std::move(list));
    case absl::StatusCode::kInvalidArgument:
      return ApiError(400, "invalid_argument", message, std::move(list));
    default:
      return status;
  }
}

absl::StatusOr<queue::ContentId> ContentIdParam(const HttpRequest& request, std::string_view what) {
  std::optional<std::string_view> text = request.Param("id");
  std::optional<queue::ContentId> id;
  if (text) id = queue::ContentId::Parse(*text);
  if (!id) return ApiError(404, "not_found", fmt::format("no {} has this id", what));
  return *id;
}

bool HasMediaType(const HttpRequest& request, std::string_view media) {
  std::optional<std::string_view> type = request.Header("Content-Type");
  if (!type) return false;
  std::string_view m = type->substr(0, type->find(';'));
  while (!m.empty() && m.back() == ' ') m.remove_suffix(1);
  return EqualsIgnoreCase(m, media);
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

}  // namespace salvo::api
