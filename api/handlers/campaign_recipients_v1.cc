#include "api/handlers/campaign_recipients_v1.h"

#include <cctype>

#include "absl/container/flat_hash_set.h"
#include "api/handlers/csv_reader.h"
#include "api/handlers/recipient_staging.h"
#include "api/http/api_error.h"
#include "engine/base/status_macros.h"
#include "engine/base/strings.h"
#include "fmt/format.h"

namespace salvo::api {
namespace {

constexpr size_t kMaxListedRowErrors = 50;

std::string Trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// The columns of the header row: which is the address, and the variables.
struct CsvColumns {
  size_t address = 0;
  std::vector<std::string> names;
};

absl::StatusOr<CsvColumns> ReadHeaderRow(const CsvRow& row) {
  CsvColumns c;
  bool found = false;
  absl::flat_hash_set<std::string> seen;
  for (size_t i = 0; i < row.fields.size(); ++i) {
    std::string name = Trimmed(row.fields[i]);
    if (i == 0 && name.starts_with("\xEF\xBB\xBF")) name.erase(0, 3);  // a UTF-8 BOM
    if (!IsVariableName(name)) {
      return ApiError(
          400, "invalid_csv_header",
          fmt::format("column {} \"{}\" is not a name of A-Z a-z 0-9 _ . -", i + 1, name));
    }
    if (!seen.insert(name).second) {
      return ApiError(400, "invalid_csv_header", fmt::format("column \"{}\" appears twice", name));
    }
    if (name == "address") {
      c.address = i;
      found = true;
    }
    c.names.push_back(std::move(name));
  }
  if (!found)
    return ApiError(400, "invalid_csv_header", "the header row has no \"address\" column");
  return c;
}

// The validation state of one upload.
struct Upload {
  std::optional<CsvColumns> columns;
  uint64_t rows = 0;  // data rows seen
  uint64_t bad_rows = 0;
  nlohmann::json problems = nlohmann::json::array();

  void Problem(const CsvRow& row, std::string_view field, std::string_view code,
               std::string message) {
    ++bad_rows;
    if (problems.size() >= kMaxListedRowErrors) return;
    problems.push_back({{"row", rows},
                        {"line", row.line},
                        {"field", field},
                        {"code", code},
                        {"message", std::move(message)}});
  }

  // The row as a recipient, or nullopt after recording why not.
  std::optional<queue::NewRecipient> Check(CsvRow& row) {
    ++rows;
    const CsvColumns& c = *columns;
    if (row.fields.size() != c.names.size()) {
      Problem(row, "", "invalid_row",
              fmt::format("{} fields where the header has {}", row.fields.size(), c.names.size()));
      return std::nullopt;
    }
    queue::NewRecipient r;
    r.address = Trimmed(row.fields[c.address]);
    if (absl::Status s = CheckAddress(r.address); !s.ok()) {
      Problem(row, "address", "invalid_address", std::string(s.message()));
      return std::nullopt;
    }
    for (size_t i = 0; i < c.names.size(); ++i) {
      if (i == c.address) continue;
      if (row.fields[i].find('\0') != std::string::npos) {
        Problem(row, c.names[i], "invalid_field", "contains a NUL byte");
        return std::nullopt;
      }
      r.variables.emplace_back(c.names[i], std::move(row.fields[i]));
    }
    return r;
  }
};

// Parses and validates the whole body, staging good rows while none is bad.
Task<absl::Status> ReadUpload(HttpRequest& request, Upload& upload, RecipientStaging& staging) {
  CsvReader reader;
  std::vector<CsvRow> rows;
  for (bool end = false; !end;) {
    CO_ASSIGN_OR_RETURN(std::string_view piece, co_await request.body().Read());
    end = piece.empty();
    absl::Status parsed = end ? reader.Finish(rows) : reader.Feed(piece, rows);
    if (!parsed.ok()) co_return ApiError(400, "malformed_csv", ToStd(parsed.message()));
    for (CsvRow& row : rows) {
      if (!upload.columns) {
        CO_ASSIGN_OR_RETURN(upload.columns, ReadHeaderRow(row));
        continue;
      }
      std::optional<queue::NewRecipient> r = upload.Check(row);
      if (r && upload.bad_rows == 0) CO_RETURN_IF_ERROR(co_await staging.Add(*r));
    }
    rows.clear();
  }
  if (!upload.columns) co_return ApiError(400, "invalid_csv_header", "the body is empty");
  if (upload.bad_rows > 0) {
    co_return ApiError(
        400, "invalid_recipients",
        fmt::format("{} of {} rows are invalid; nothing was added", upload.bad_rows, upload.rows),
        std::move(upload.problems));
  }
  if (upload.rows == 0) co_return ApiError(400, "invalid_recipients", "the CSV has no data rows");
  co_return co_await staging.FinishWriting();
}

Task<absl::StatusOr<HttpResponse>> HandleUpload(std::shared_ptr<const SubmissionContext> context,
                                                HttpRequest& request) {
  if (!HasMediaType(request, "text/csv")) {
    co_return ApiError(415, "unsupported_media_type", "the body must be text/csv");
  }
  CO_ASSIGN_OR_RETURN(queue::CampaignId id, ContentIdParam(request));
  std::optional<std::string> close_param = request.QueryParam("close");
  bool close = close_param && (*close_param == "true" || *close_param == "1");
  queue::Spool* spool = context->spool;
  {  // the campaign must exist; its template is not kept
    absl::StatusOr<queue::Content> content = co_await spool->ReadContent(id);
    if (!content.ok()) co_return SpoolFailure(content.status());
    if (!std::holds_alternative<queue::Campaign>(*content)) {
      co_return ApiError(404, "not_found", "no campaign has this id");
    }
  }
  CO_ASSIGN_OR_RETURN(std::unique_ptr<RecipientStaging> staging,
                      co_await RecipientStaging::Open(context->staging_dir));
  Upload upload;
  CO_RETURN_IF_ERROR(co_await ReadUpload(request, upload, *staging));
  uint64_t added = 0;
  absl::Status s;
  while (s.ok()) {
    absl::StatusOr<std::vector<queue::NewRecipient>> batch =
        co_await staging->Next(kRecipientBatch);
    if (!batch.ok()) co_return batch.status();
    if (batch->empty()) break;
    absl::StatusOr<std::vector<queue::RecipientId>> ids =
        co_await spool->AddCampaignRecipients(id, std::move(*batch));
    if (ids.ok()) added += ids->size();
    s = ids.status();
  }
  if (s.ok() && close) s = co_await spool->CloseCampaign(id);
  if (added > 0 && context->accepted) context->accepted();
  if (!s.ok())
    co_return SpoolFailure(s, {{"campaign", id.ToString()}, {"recipients_added", added}});
  nlohmann::ordered_json answer;
  answer["campaign"] = id.ToString();
  answer["recipients"] = added;
  answer["open"] = !close;
  co_return OrderedJsonResponse(202, answer);
}

}  // namespace

HttpHandler CampaignRecipientsV1(std::shared_ptr<const SubmissionContext> context) {
  return [context](HttpRequest& request) { return HandleUpload(context, request); };
}

}  // namespace salvo::api
