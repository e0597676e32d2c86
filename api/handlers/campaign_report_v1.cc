#include "api/handlers/campaign_report_v1.h"

#include <fmt/format.h>

#include "api/handlers/campaign_status_v1.h"
#include "api/http/api_error.h"
#include "engine/base/status_macros.h"

namespace salvo::api {
namespace {

using Counts = queue::OutcomeCounts;

// Outcome names and their counts, in a fixed order.
std::array<std::pair<const char*, uint64_t>, 6> Outcomes(const Counts& c) {
  return {{{"delivered", c.delivered},
           {"deferred", c.deferred},
           {"failed", c.failed},
           {"expired", c.expired},
           {"suppressed", c.suppressed},
           {"cancelled", c.cancelled}}};
}

std::array<std::pair<const char*, uint64_t>, 3> Feedback(const queue::FeedbackCounts& c) {
  return {{{"bounced", c.bounced}, {"complained", c.complained}, {"unsubscribed", c.unsubscribed}}};
}

nlohmann::ordered_json Seconds(const std::optional<absl::Duration>& d) {
  if (!d) return nullptr;
  return std::round(absl::ToDoubleSeconds(*d) * 1000) / 1000;
}

nlohmann::ordered_json ReportJson(const queue::CampaignInfo& info, const queue::CampaignReport& r) {
  nlohmann::ordered_json j;
  j["campaign"] = info.id.ToString();
  j["status"] = queue::CampaignStatusName(info.status);
  j["counts"] = CountsJson(info.counters);
  j["events"] = r.events;
  nlohmann::ordered_json outcomes;
  for (const auto& [name, n] : Outcomes(r.outcomes)) outcomes[name] = n;
  j["outcomes"] = std::move(outcomes);
  nlohmann::ordered_json domains = nlohmann::ordered_json::array();
  for (const auto& [domain, counts] : r.domains) {
    nlohmann::ordered_json d;
    d["domain"] = domain;
    for (const auto& [name, n] : Outcomes(counts)) d[name] = n;
    d["total"] = counts.total();
    domains.push_back(std::move(d));
  }
  j["domains"] = std::move(domains);
  nlohmann::ordered_json replies = nlohmann::ordered_json::array();
  for (const auto& [reply, n] : r.replies) {
    nlohmann::ordered_json e;
    e["reply"] = reply;
    e["count"] = n;
    replies.push_back(std::move(e));
  }
  j["replies"] = std::move(replies);
  nlohmann::ordered_json feedback;
  for (const auto& [name, n] : Feedback(r.feedback)) feedback[name] = n;
  j["feedback"] = std::move(feedback);
  nlohmann::ordered_json categories = nlohmann::ordered_json::array();
  for (const queue::FeedbackCategoryCount& c : r.feedback_categories) {
    nlohmann::ordered_json e;
    e["kind"] = queue::FeedbackKindName(c.kind);
    e["category"] = c.category;
    e["count"] = c.count;
    categories.push_back(std::move(e));
  }
  j["feedback_categories"] = std::move(categories);
  nlohmann::ordered_json delivery;
  delivery["count"] = r.delivered_timed;
  delivery["p50"] = Seconds(r.p50);
  delivery["p90"] = Seconds(r.p90);
  delivery["p99"] = Seconds(r.p99);
  j["delivery_seconds"] = std::move(delivery);
  return j;
}

// RFC 4180 quoting when needed.
std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string ReportCsv(const queue::CampaignReport& r) {
  std::string out = "section,key,outcome,value\r\n";
  auto row = [&out](std::string_view section, std::string_view key, std::string_view outcome,
                    std::string_view value) {
    out += fmt::format("{},{},{},{}\r\n", section, CsvField(key), outcome, value);
  };
  for (const auto& [name, n] : Outcomes(r.outcomes)) row("outcome", "", name, std::to_string(n));
  for (const auto& [domain, counts] : r.domains) {
    for (const auto& [name, n] : Outcomes(counts)) {
      if (n > 0) row("domain", domain, name, std::to_string(n));
    }
  }
  for (const auto& [reply, n] : r.replies) row("reply", reply, "", std::to_string(n));
  for (const auto& [name, n] : Feedback(r.feedback)) row("feedback", "", name, std::to_string(n));
  for (const queue::FeedbackCategoryCount& c : r.feedback_categories) {
    row("feedback_category", c.category, queue::FeedbackKindName(c.kind), std::to_string(c.count));
  }
  row("delivery_seconds", "count", "", std::to_string(r.delivered_timed));
  for (const auto& [name, d] : {std::pair{"p50", r.p50}, {"p90", r.p90}, {"p99", r.p99}}) {
    if (d) row("delivery_seconds", name, "", fmt::format("{:.3f}", absl::ToDoubleSeconds(*d)));
  }
  return out;
}

Task<absl::StatusOr<HttpResponse>> HandleReport(std::shared_ptr<const SubmissionContext> context,
                                                HttpRequest& request) {
  CO_ASSIGN_OR_RETURN(queue::CampaignId id, ContentIdParam(request));
  std::string format = request.QueryParam("format").value_or("json");
  if (format != "json" && format != "csv") {
    co_return InvalidFieldError("format", "format must be json or csv");
  }
  absl::StatusOr<queue::CampaignReport> report = co_await context->spool->ReportCampaign(id);
  if (!report.ok()) co_return SpoolFailure(report.status());
  absl::StatusOr<queue::CampaignInfo> info = context->spool->GetCampaign(id);
  if (!info.ok()) co_return SpoolFailure(info.status());
  if (format == "csv") {
    HttpResponse response = HttpResponse::Text(200, ReportCsv(*report), "text/csv; charset=utf-8");
    response.headers.Add("Content-Disposition",
                         fmt::format("attachment; filename=\"campaign-{}.csv\"", id.ToString()));
    co_return response;
  }
  co_return OrderedJsonResponse(200, ReportJson(*info, *report));
}

}  // namespace

HttpHandler CampaignReportV1(std::shared_ptr<const SubmissionContext> context) {
  return [context](HttpRequest& request) { return HandleReport(context, request); };
}

}  // namespace salvo::api
