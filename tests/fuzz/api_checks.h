// The invariants of the HTTP API's I/O-free request decoding, shared by the
// in-suite mutation test (tests/api/decode_fuzz_test.cc) and the libFuzzer
// targets (tests/fuzz/api_*_fuzzer.cc). "" when all hold, else what broke:
//  - JSON bodies (ParseJson, JsonObjectReader): an error is a 400
//    malformed_json (never an exception); a parsed value re-parses from its
//    dump to the same value; typed fields respect their bounds; field
//    problems are 400s. (The message fields: api_message_checks.h.)
//  - CSV (CsvReader): the same rows and status however the bytes are split;
//    rows within max_columns and max_field_bytes; line numbers ascending;
//    rows written back as quoted CSV read back the same.
//  - HTTP (HttpRequestParser): the same heads, bodies and error however the
//    bytes arrive; bodies within the limit and of the declared length.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/handlers/csv_reader.h"
#include "api/http/api_error.h"
#include "api/http/json_body.h"
#include "api/http/request_parser.h"
#include "fmt/format.h"

namespace salvo::fuzz {

// Parses `text` as a JSON body; then reads it with JsonObjectReader the way
// handlers do (typed fields, nested objects, unknown fields).
inline std::string CheckJsonSyntax(std::string_view text, nlohmann::json* out = nullptr) {
  absl::StatusOr<nlohmann::json> json = ParseJson(text);
  if (!json.ok()) {
    if (HttpStatusFor(json.status()) != 400 || ApiErrorCode(json.status()) != "malformed_json") {
      return "malformed JSON not a 400 malformed_json: " + std::string(json.status().message());
    }
    return "";
  }
  std::string dumped = json->dump();
  absl::StatusOr<nlohmann::json> again = ParseJson(dumped);
  if (!again.ok() || *again != *json) return "JSON does not round-trip through dump(): " + dumped;
  JsonChecker check;
  JsonObjectReader body(*json, "", &check);
  std::optional<std::string> name = body.String("name", kOptional, 16);
  if (name && name->size() > 16) return "string over its bound";
  std::optional<int64_t> rate = body.Int("rate", kOptional, 1, 1000);
  if (rate && (*rate < 1 || *rate > 1000)) return "integer out of its range";
  std::optional<double> ratio = body.Number("ratio", kOptional, 0, 1);
  if (ratio && !(*ratio >= 0 && *ratio <= 1)) return "number out of its range";
  body.Bool("enabled", kOptional);
  if (const nlohmann::json* list = body.Array("to", kOptional, 5)) {
    if (list->size() > 5) return "array over its bound";
    for (size_t i = 0; i < list->size(); ++i) {
      JsonObjectReader item((*list)[i], body.Path("to") + fmt::format("[{}]", i), &check);
      item.String("email", kRequired);
      item.Finish();
    }
  }
  if (const nlohmann::json* o = body.Object("settings", kOptional)) {
    JsonObjectReader settings(*o, "settings", &check);
    settings.Int("max", kRequired, 0, 10);
    settings.Finish();
  }
  body.Finish();
  absl::Status status = check.ToStatus();
  if (!status.ok() && HttpStatusFor(status) != 400) return "field problems not a 400";
  if (out != nullptr) *out = std::move(*json);
  return "";
}

struct CsvResult {
  std::vector<api::CsvRow> rows;
  std::string status;
};

inline CsvResult ReadCsv(std::string_view text, const std::vector<size_t>& cuts,
                         const api::CsvLimits& limits) {
  api::CsvReader reader(limits);
  CsvResult r;
  absl::Status s;
  size_t from = 0;
  for (size_t cut : cuts) {
    s = reader.Feed(text.substr(from, cut - from), r.rows);
    from = cut;
    if (!s.ok()) break;
  }
  if (s.ok()) s = reader.Finish(r.rows);
  r.status = s.ToString();
  return r;
}

inline bool SameRows(const std::vector<api::CsvRow>& a, const std::vector<api::CsvRow>& b,
                     bool lines) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].fields != b[i].fields || (lines && a[i].line != b[i].line)) return false;
  }
  return true;
}

inline std::string CheckCsv(std::string_view text, const std::vector<size_t>& cuts,
                            const api::CsvLimits& limits) {
  CsvResult whole = ReadCsv(text, {text.size()}, limits);
  CsvResult split = ReadCsv(text, cuts, limits);
  if (whole.status != split.status) {
    return fmt::format("split changes the status: '{}' vs '{}'", whole.status, split.status);
  }
  // After an error the rows before it are the same; without one, all of them.
  if (!SameRows(whole.rows, split.rows, true)) {
    bool ok_error = whole.status != "OK";  // rows completed before the error may differ in count
    size_t n = std::min(whole.rows.size(), split.rows.size());
    for (size_t i = 0; i < n; ++i)
      ok_error = ok_error && whole.rows[i].fields == split.rows[i].fields;
    if (!ok_error) return "split changes the rows";
  }
  uint64_t line = 0;
  std::string again;
  for (const api::CsvRow& row : whole.rows) {
    if (row.fields.empty() || row.fields.size() > limits.max_columns)
      return "row width out of bounds";
    if (row.line <= line && line != 0) return "line numbers not ascending";
    line = row.line;
    for (size_t i = 0; i < row.fields.size(); ++i) {
      if (row.fields[i].size() > limits.max_field_bytes) return "field over max_field_bytes";
      if (i > 0) again += ',';
      again += '"';
      for (char c : row.fields[i]) again += c == '"' ? std::string("\"\"") : std::string(1, c);
      again += '"';
    }
    again += "\r\n";
  }
  api::CsvLimits roomy = limits;
  roomy.max_row_bytes = limits.max_row_bytes * 3 + 16;
  roomy.max_field_bytes = limits.max_field_bytes * 2;
  CsvResult back = ReadCsv(again, {again.size()}, roomy);
  if (back.status != "OK" || !SameRows(back.rows, whole.rows, false)) {
    return "rows do not round-trip: " + again.substr(0, 500);
  }
  return "";
}

struct HttpResult {
  std::vector<std::string> heads;  // method, target, version, length, chunked
  std::vector<std::string> bodies;
  HttpParseError error = HttpParseError::kNone;
  std::string problem;  // an invariant broken on the way
};

// Feeds `input` as the session does, the bytes arriving up to each of `cuts`.
inline HttpResult ParseHttp(std::string_view input, const std::vector<size_t>& cuts,
                            uint64_t body_limit) {
  HttpParserLimits limits;
  limits.max_header_bytes = 1024;
  limits.max_header_fields = 20;
  HttpRequestParser p(limits);
  HttpResult out;
  std::string buf, body;
  size_t pos = 0, next_cut = 0;
  for (int guard = 0; guard < 1'000'000; ++guard) {
    HttpRequestParser::Step step = p.Feed(std::string_view(buf).substr(pos));
    if (step.consumed > buf.size() - pos) {
      out.problem = "consumed more than fed";
      return out;
    }
    pos += step.consumed;
    switch (step.kind) {
      case HttpRequestParser::Step::kHead: {
        const HttpRequestHead& h = p.head();
        out.heads.push_back(fmt::format("{} {} {} {} {}", h.method_text, h.target, h.version,
                                        h.content_length.value_or(~0ull), h.chunked));
        if (h.headers.size() > limits.max_header_fields) out.problem = "too many fields";
        p.set_body_limit(body_limit);
        body.clear();
        break;
      }
      case HttpRequestParser::Step::kBodyPiece:
        body += step.body;
        if (step.body.empty()) out.problem = "empty body piece";
        if (body.size() > body_limit) out.problem = "body over the limit";
        break;
      case HttpRequestParser::Step::kComplete:
        if (!p.head().chunked && body.size() != p.content_length().value_or(0)) {
          out.problem = "body length differs from Content-Length";
        }
        out.bodies.push_back(body);
        p.Reset();
        break;
      case HttpRequestParser::Step::kError:
        out.error = p.error();
        if (out.error == HttpParseError::kNone) out.problem = "error without a kind";
        return out;
      case HttpRequestParser::Step::kNeedMore:
        if (next_cut >= cuts.size()) return out;
        buf.erase(0, pos);
        pos = 0;
        buf.append(input.substr(next_cut == 0 ? 0 : cuts[next_cut - 1],
                                cuts[next_cut] - (next_cut == 0 ? 0 : cuts[next_cut - 1])));
        ++next_cut;
        break;
    }
    if (!out.problem.empty()) return out;
  }
  out.problem = "parser did not finish";
  return out;
}

inline std::string CheckHttp(std::string_view input, const std::vector<size_t>& cuts) {
  HttpResult whole = ParseHttp(input, {input.size()}, 300);
  HttpResult split = ParseHttp(input, cuts, 300);
  if (!whole.problem.empty()) return whole.problem;
  if (!split.problem.empty()) return split.problem;
  // Beast parses a request line at once when it arrives whole with the first
  // bytes, else only after the whole head: a malformed request line may be
  // refused early on one path while the other still waits for CRLF CRLF, or
  // refused for another of its faults ("HTTP/0.1" and a bare CR: 505 or 400).
  // Whatever is accepted must be the same.
  if (whole.heads != split.heads || whole.bodies != split.bodies) {
    return fmt::format("split changes the result: {} vs {} heads, error {} vs {}",
                       whole.heads.size(), split.heads.size(), static_cast<int>(whole.error),
                       static_cast<int>(split.error));
  }
  return "";
}

}  // namespace salvo::fuzz
