#include "api/handlers/unsubscribe_v1.h"

#include <algorithm>
#include <mutex>

#include "absl/time/clock.h"
#include "api/http/api_error.h"
#include "engine/base/deadline.h"
#include "engine/base/status_macros.h"
#include "engine/base/strings.h"
#include "engine/render/unsubscribe.h"
#include "fmt/format.h"
#include "queue/ids.h"
#include "spdlog/spdlog.h"

namespace salvo::api {

struct UnsubscribeContext {
  queue::Spool* spool;
  render::UnsubscribeCodec codec;
  // A token bucket shared by every shard (the route is open to anyone).
  std::mutex mu;
  double tokens = kUnsubscribeRate;           // guarded by mu
  Clock::time_point refilled = Clock::now();  // guarded by mu

  bool Admit() {
    std::lock_guard<std::mutex> lock(mu);
    Clock::time_point now = Clock::now();
    double elapsed = std::chrono::duration<double>(now - refilled).count();
    refilled = now;
    tokens = std::min<double>(kUnsubscribeRate, tokens + elapsed * kUnsubscribeRate);
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  }
};

namespace {

absl::StatusOr<render::UnsubscribeTarget> TargetOf(UnsubscribeContext& context,
                                                   const HttpRequest& request) {
  if (!context.Admit()) {
    return ApiError(429, "too_many_requests", "too many unsubscribe requests; retry shortly");
  }
  std::string_view token = request.Param("token").value_or("");
  absl::StatusOr<render::UnsubscribeTarget> target = context.codec.Verify(token);
  if (target.ok()) return target;
  if (absl::IsPermissionDenied(target.status())) {
    return ApiError(404, "not_found", "no such unsubscribe link");
  }
  return ApiError(400, "invalid_token", "the unsubscribe link is damaged");
}

std::string CampaignText(const render::UnsubscribeTarget& t) {
  std::string_view bytes(reinterpret_cast<const char*>(t.campaign.data()), t.campaign.size());
  std::optional<queue::CampaignId> id = queue::CampaignId::FromBytes(bytes);
  return id ? id->ToString() : "";
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// RFC 8058 §3.1: the body is "List-Unsubscribe=One-Click", form-urlencoded
// or as a multipart/form-data field.
bool IsOneClick(std::string_view body) {
  if (body.find("List-Unsubscribe=One-Click") != std::string_view::npos) return true;
  return body.find("name=\"List-Unsubscribe\"") != std::string_view::npos &&
         body.find("One-Click") != std::string_view::npos;
}

Task<absl::StatusOr<HttpResponse>> HandlePage(std::shared_ptr<UnsubscribeContext> context,
                                              HttpRequest& request) {
  CO_ASSIGN_OR_RETURN(render::UnsubscribeTarget target, TargetOf(*context, request));
  std::string page = fmt::format(
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Unsubscribe</title></head>\n"
      "<body><h1>Unsubscribe</h1>\n<p>Stop sending mail to <b>{}</b>?</p>\n"
      "<form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" "
      "value=\"One-Click\"><button type=\"submit\">Unsubscribe</button></form>\n</body></html>\n",
      HtmlEscape(target.address));
  HttpResponse r = HttpResponse::Text(200, std::move(page), "text/html; charset=utf-8");
  r.headers.Add("Cache-Control", "no-store");
  co_return r;
}

template <typename Id>
Id IdOf(const render::RecipientKey& key) {
  std::string_view bytes(reinterpret_cast<const char*>(key.data()), key.size());
  return Id::FromBytes(bytes).value_or(Id());
}

// The campaign's "unsubscribed" count and event (queue/feedback.h). The
// suppression is what matters to the recipient: a failure here is logged.
Task<void> RecordUnsubscribe(UnsubscribeContext& context, const render::UnsubscribeTarget& target,
                             std::string address) {
  queue::CampaignFeedback feedback{.recipient = IdOf<queue::RecipientId>(target.recipient),
                                   .campaign = IdOf<queue::CampaignId>(target.campaign),
                                   .kind = queue::FeedbackKind::kUnsubscribed,
                                   .category = "one-click",
                                   .address = std::move(address),
                                   .detail = "List-Unsubscribe=One-Click (RFC 8058)"};
  auto record = context.spool->RecordCampaignFeedback(std::move(feedback));
  absl::StatusOr<queue::FeedbackResult> recorded = co_await record;
  if (!recorded.ok()) {
    spdlog::warn("unsubscribe: event not recorded for campaign {}: {}", CampaignText(target),
                 ToStd(recorded.status().ToString()));
  }
}

Task<absl::StatusOr<HttpResponse>> HandleUnsubscribe(std::shared_ptr<UnsubscribeContext> context,
                                                     HttpRequest& request) {
  CO_ASSIGN_OR_RETURN(render::UnsubscribeTarget target, TargetOf(*context, request));
  CO_ASSIGN_OR_RETURN(std::string body, co_await request.ReadBody());
  if (!IsOneClick(body)) {
    co_return ApiError(400, "not_one_click", "the body must be List-Unsubscribe=One-Click");
  }
  std::string campaign = CampaignText(target);
  std::string address = queue::NormalizeAddress(target.address);
  // A repeated POST (mail clients may send two) counts once.
  auto find = context->spool->FindSuppression(address);
  absl::StatusOr<std::optional<queue::SuppressionEntry>> before = co_await find;
  if (!before.ok()) co_return before.status();
  bool again = before->has_value() && (*before)->source == "unsubscribe";
  queue::SuppressionEntry entry{
      .address = address,
      .reason = fmt::format("one-click unsubscribe from campaign {}", campaign),
      .source = "unsubscribe",
      .created = absl::Now()};
  absl::Status s = co_await context->spool->AddSuppression(std::move(entry));
  if (!s.ok()) co_return s;
  if (!again) {
    auto record = RecordUnsubscribe(*context, target, address);
    co_await record;
  }
  spdlog::info("unsubscribe: {} from campaign {} (peer {}){}", address, campaign,
               request.peer().HostString(), again ? " again" : "");
  co_return JsonResponse(200,
                         {{"unsubscribed", true}, {"address", address}, {"campaign", campaign}});
}

}  // namespace

std::shared_ptr<UnsubscribeContext> MakeUnsubscribeContext(queue::Spool* spool,
                                                           std::string verp_secret) {
  return std::shared_ptr<UnsubscribeContext>(
      new UnsubscribeContext{spool, render::UnsubscribeCodec(verp_secret)});
}

HttpHandler UnsubscribePageV1(std::shared_ptr<UnsubscribeContext> context) {
  return [context](HttpRequest& request) { return HandlePage(context, request); };
}

HttpHandler UnsubscribeV1(std::shared_ptr<UnsubscribeContext> context) {
  return [context](HttpRequest& request) { return HandleUnsubscribe(context, request); };
}

}  // namespace salvo::api
