#include "api/http/json_body.h"

#include <cmath>

#include "api/http/api_error.h"
#include "engine/base/status_macros.h"
#include "fmt/format.h"

namespace salvo {
namespace {

// The byte offset at which nesting exceeds `max_depth`, or npos.
size_t FindTooDeep(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string_view::npos;
}

absl::Status Malformed(std::string_view text, size_t byte, std::string_view what) {
  // `byte` is 1-based (nlohmann's convention): the character that failed.
  size_t line = 1, column = 1;
  for (size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  nlohmann::json detail = {{"position", byte}, {"line", line}, {"column", column}};
  return ApiError(
      400, "malformed_json",
      fmt::format("malformed JSON at byte {} (line {}, column {}): {}", byte, line, column, what),
      nlohmann::json::array({detail}));
}

std::string_view TypeName(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    default:
      return "a number";
  }
}

}  // namespace

absl::StatusOr<nlohmann::json> ParseJson(std::string_view text) {
  if (size_t deep = FindTooDeep(text, kMaxJsonDepth); deep != std::string_view::npos) {
    return Malformed(text, deep + 1, fmt::format("nested deeper than {} levels", kMaxJsonDepth));
  }
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error ..."
    std::string_view what = e.what();
    if (size_t colon = what.find(": "); colon != std::string_view::npos) {
      what = what.substr(colon + 2);
    }
    return Malformed(text, e.byte, what);
  } catch (const nlohmann::json::exception& e) {
    // out_of_range.406 "number overflow parsing '1e999'" (found by fuzzing:
    // it escaped into the handler's coroutine and terminated the daemon).
    std::string_view what = e.what();
    if (size_t close = what.find("] "); close != std::string_view::npos) {
      what = what.substr(close + 2);
    }
    size_t byte = 1;
    if (size_t q = what.find('\''); q != std::string_view::npos && what.back() == '\'') {
      size_t at = text.find(what.substr(q + 1, what.size() - q - 2));
      if (at != std::string_view::npos) byte = at + 1;
    }
    return Malformed(text, byte, what);
  }
}

Task<absl::StatusOr<nlohmann::json>> ReadJsonBody(HttpRequest& request) {
  if (std::optional<std::string_view> type = request.Header("Content-Type")) {
    std::string_view media = type->substr(0, type->find(';'));
    while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
    if (!EqualsIgnoreCase(media, "application/json")) {
      co_return ApiError(415, "unsupported_media_type",
                         fmt::format("the body must be application/json, not \"{}\"", *type));
    }
  }
  CO_ASSIGN_OR_RETURN(std::string body, co_await request.ReadBody());
  co_return ParseJson(body);
}

// ---- JsonChecker --------------------------------------------------------------

void JsonChecker::Add(std::string field, std::string code, std::string message) {
  if (problems_.size() >= kMaxProblems) {
    ++dropped_;
    return;
  }
  problems_.push_back({std::move(field), std::move(code), std::move(message)});
}

absl::Status JsonChecker::ToStatus() const {
  if (problems_.empty()) return absl::OkStatus();
  nlohmann::json details = nlohmann::json::array();
  for (const auto& p : problems_) {
    details.push_back({{"field", p.field}, {"code", p.code}, {"message", p.message}});
  }
  if (problems_.size() == 1) return ApiError(400, problems_[0].code, problems_[0].message, details);
  size_t total = problems_.size() + dropped_;
  return ApiError(
      400, "invalid_request",
      fmt::format("{} problems in the request body, the first: {}", total, problems_[0].message),
      details);
}

// ---- JsonObjectReader -----------------------------------------------------------

JsonObjectReader::JsonObjectReader(const nlohmann::json& value, std::string path,
                                   JsonChecker* checker)
    : value_(value), path_(std::move(path)), checker_(checker), is_object_(value.is_object()) {
  if (!is_object_) {
    std::string where = path_.empty() ? "the request body" : fmt::format("\"{}\"", path_);
    checker_->Add(path_, "invalid_field",
                  fmt::format("{} must be a JSON object, not {}", where, TypeName(value)));
  }
}

std::string JsonObjectReader::Path(std::string_view name) const {
  return path_.empty() ? std::string(name) : fmt::format("{}.{}", path_, name);
}

void JsonObjectReader::Problem(std::string_view name, std::string code, std::string message) {
  checker_->Add(Path(name), std::move(code), std::move(message));
}

const nlohmann::json* JsonObjectReader::Field(std::string_view name, Presence presence) {
  known_.emplace_back(name);
  if (!is_object_) return nullptr;
  auto it = value_.find(name);
  if (it == value_.end()) {
    if (presence == kRequired) {
      Problem(name, "missing_field", fmt::format("missing required field \"{}\"", Path(name)));
    }
    return nullptr;
  }
  return &*it;
}

std::optional<std::string> JsonObjectReader::String(std::string_view name, Presence presence,
                                                    size_t max_bytes) {
  const nlohmann::json* v = Field(name, presence);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    Problem(name, "invalid_field",
            fmt::format("\"{}\" must be a string, not {}", Path(name), TypeName(*v)));
    return std::nullopt;
  }
  const std::string& s = v->get_ref<const std::string&>();
  if (s.size() > max_bytes) {
    Problem(name, "invalid_field",
            fmt::format("\"{}\" is longer than {} bytes", Path(name), max_bytes));
    return std::nullopt;
  }
  return s;
}

std::optional<int64_t> JsonObjectReader::Int(std::string_view name, Presence presence, int64_t min,
                                             int64_t max) {
  const nlohmann::json* v = Field(name, presence);
  if (v == nullptr) return std::nullopt;
  bool integral = v->is_number_integer() ||
                  (v->is_number_float() && std::trunc(v->get<double>()) == v->get<double>());
  if (!integral) {
    Problem(name, "invalid_field",
            fmt::format("\"{}\" must be an integer, not {}", Path(name), TypeName(*v)));
    return std::nullopt;
  }
  bool in_range;
  int64_t n = 0;
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    in_range = u <= static_cast<uint64_t>(INT64_MAX) && static_cast<int64_t>(u) >= min &&
               static_cast<int64_t>(u) <= max;
    n = static_cast<int64_t>(u);
  } else if (v->is_number_integer()) {
    n = v->get<int64_t>();
    in_range = n >= min && n <= max;
  } else {
    double d = v->get<double>();
    in_range = d >= static_cast<double>(min) && d <= static_cast<double>(max);
    n = in_range ? static_cast<int64_t>(d) : 0;
  }
  if (!in_range) {
    Problem(name, "invalid_field",
            fmt::format("\"{}\" must be between {} and {}", Path(name), min, max));
    return std::nullopt;
  }
  return n;
}

std::optional<double> JsonObjectReader::Number(std::string_view name, Presence presence, double min,
                                               double max) {
  const nlohmann::json* v = Field(name, presence);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) {
    Problem(name, "invalid_field",
            fmt::format("\"{}\" must be a number, not {}", Path(name), TypeName(*v)));
    return std::nullopt;
  }
  double d = v->get<double>();
  if (!(d >= min && d <= max)) {
    Problem(name, "invalid_field",
            fmt::format("\"{}\" must be between {} and {}", Path(name), min, max));
    return std::nullopt;
  }
  return d;
}

std::optional<bool> JsonObjectReader::Bool(std::string_view name, Presence presence) {
  const nlohmann::json* v = Field(name, presence);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) {
    Problem(name, "invalid_field",
            fmt::format("\"{}\" must be true or false, not {}", Path(name), TypeName(*v)));
    return std::nullopt;
  }
  return v->get<bool>();
}

const nlohmann::json* JsonObjectReader::Object(std::string_view name, Presence presence) {
  const nlohmann::json* v = Field(name, presence);
  if (v == nullptr) return nullptr;
  if (!v->is_object()) {
    Problem(name, "invalid_field",
            fmt::format("\"{}\" must be an object, not {}", Path(name), TypeName(*v)));
    return nullptr;
  }
  return v;
}

const nlohmann::json* JsonObjectReader::Array(std::string_view name, Presence presence,
                                              size_t max_items) {
  const nlohmann::json* v = Field(name, presence);
  if (v == nullptr) return nullptr;
  if (!v->is_array()) {
    Problem(name, "invalid_field",
            fmt::format("\"{}\" must be an array, not {}", Path(name), TypeName(*v)));
    return nullptr;
  }
  if (v->size() > max_items) {
    Problem(name, "invalid_field",
            fmt::format("\"{}\" has more than {} items", Path(name), max_items));
    return nullptr;
  }
  return v;
}

void JsonObjectReader::Finish() {
  if (!is_object_) return;
  for (auto it = value_.begin(); it != value_.end(); ++it) {
    const std::string& key = it.key();
    bool known = false;
    for (const std::string& k : known_) known = known || k == key;
    if (!known) Problem(key, "unknown_field", fmt::format("unknown field \"{}\"", Path(key)));
  }
}

}  // namespace salvo
