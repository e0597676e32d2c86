// JSON request bodies: parsing with errors that say where, and strict
// validation of objects so that a typo in a field name is an error, never a
// silently ignored setting.
//
//   CO_ASSIGN_OR_RETURN(nlohmann::json body, co_await ReadJsonBody(request));
//   JsonChecker check;
//   JsonObjectReader campaign(body, "", &check);
//   std::optional<std::string> name = campaign.String("name", kRequired, 200);
//   std::optional<int64_t> rate = campaign.Int("rate", kOptional, 1, 1'000'000);
//   campaign.Finish();  // every field not asked for is "unknown_field"
//   CO_RETURN_IF_ERROR(check.ToStatus());
//
// Errors are 400s in the API error shape (api_error.h): "malformed_json"
// (with the byte offset, line and column), "unknown_field", "missing_field",
// "invalid_field" (wrong type or out of range), each naming the field by its
// path ("recipients[2].email"); several problems are reported together as
// "invalid_request" with one detail each.
//
// Bounds: nesting depth (kMaxJsonDepth) is checked before parsing, so a
// hostile body cannot exhaust the stack; at most kMaxProblems are listed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/http/http_request.h"
#include "engine/loop/task.h"
#include "nlohmann/json.hpp"

namespace salvo {

inline constexpr int kMaxJsonDepth = 64;

// Parses `text`; 400 "malformed_json" naming the position on failure.
absl::StatusOr<nlohmann::json> ParseJson(std::string_view text);

// Reads the whole body (within the route's limit) and parses it. The body's
// Content-Type must be application/json (or absent): 415 otherwise.
Task<absl::StatusOr<nlohmann::json>> ReadJsonBody(HttpRequest& request);

enum Presence { kRequired, kOptional };

// The problems found in one request body.
class JsonChecker {
 public:
  static constexpr size_t kMaxProblems = 50;

  void Add(std::string field, std::string code, std::string message);
  bool ok() const { return problems_.empty(); }
  // OK, or a 400 listing every problem.
  absl::Status ToStatus() const;

 private:
  struct Problem {
    std::string field;
    std::string code;
    std::string message;
  };
  std::vector<Problem> problems_;
  size_t dropped_ = 0;
};

// Reads the fields of one JSON object, recording problems in a JsonChecker.
// `value` must outlive the reader; `path` names the object ("" for the body,
// "recipients[2]" for an element).
class JsonObjectReader {
 public:
  JsonObjectReader(const nlohmann::json& value, std::string path, JsonChecker* checker);

  // The field's value (marked as known), or nullptr when absent (a problem
  // if required) or when `value` is not an object.
  const nlohmann::json* Field(std::string_view name, Presence presence);
  // Typed fields; nullopt when absent or invalid (a problem is recorded).
  std::optional<std::string> String(std::string_view name, Presence presence,
                                    size_t max_bytes = 4096);
  std::optional<int64_t> Int(std::string_view name, Presence presence, int64_t min, int64_t max);
  std::optional<double> Number(std::string_view name, Presence presence, double min, double max);
  std::optional<bool> Bool(std::string_view name, Presence presence);
  const nlohmann::json* Object(std::string_view name, Presence presence);
  const nlohmann::json* Array(std::string_view name, Presence presence, size_t max_items);

  // "path.name" (or "name" at the top) for nested readers and problems.
  std::string Path(std::string_view name) const;
  void Problem(std::string_view name, std::string code, std::string message);
  // Records each field that was never asked for as "unknown_field".
  void Finish();

 private:
  const nlohmann::json& value_;
  std::string path_;
  JsonChecker* checker_;
  std::vector<std::string> known_;
  bool is_object_;
};

}  // namespace salvo
