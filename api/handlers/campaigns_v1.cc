#include "api/handlers/campaigns_v1.h"

#include "api/http/api_error.h"
#include "engine/base/status_macros.h"
#include "engine/dkim/dkim_keyring.h"
#include "fmt/format.h"

namespace salvo::api {
namespace {

std::optional<queue::DsnReturn> ParseRet(std::string_view ret) {
  if (ret == "full") return queue::DsnReturn::kFull;
  if (ret == "headers") return queue::DsnReturn::kHeaders;
  return std::nullopt;
}

void ReadSettings(JsonObjectReader& body, queue::CampaignSettings& settings, JsonChecker* check) {
  const nlohmann::json* json = body.Object("settings", kOptional);
  if (json == nullptr) return;
  JsonObjectReader s(*json, "settings", check);
  if (std::optional<int64_t> age = s.Int("max_age", kOptional, 60, 30 * 86400)) {
    settings.max_age = absl::Seconds(*age);
  }
  settings.envid = s.String("envid", kOptional, 100).value_or("");
  if (std::optional<std::string> ret = s.String("ret", kOptional, 16)) {
    if (std::optional<queue::DsnReturn> r = ParseRet(*ret)) {
      settings.ret = *r;
    } else {
      s.Problem("ret", "invalid_field", "must be \"full\" or \"headers\"");
    }
  }
  if (const nlohmann::json* tags = s.Object("tags", kOptional)) {
    if (tags->size() > 20) s.Problem("tags", "invalid_field", "at most 20 tags");
    for (const auto& [k, v] : tags->items()) {
      if (!IsVariableName(k) || !v.is_string() || v.get_ref<const std::string&>().size() > 200) {
        s.Problem("tags", "invalid_field",
                  fmt::format("tag \"{}\": a name of A-Z a-z 0-9 _ . - and a string of at most "
                              "200 bytes",
                              k));
      } else if (tags->size() <= 20) {
        settings.metadata.emplace_back(k, v.get<std::string>());
      }
    }
  }
  s.Finish();
}

std::vector<queue::NewRecipient> ReadCampaignRecipients(JsonObjectReader& body,
                                                        JsonChecker* check) {
  std::vector<queue::NewRecipient> out;
  const nlohmann::json* list = body.Array("recipients", kOptional, kMaxInlineRecipients);
  if (list == nullptr) return out;
  out.reserve(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    std::string path = fmt::format("recipients[{}]", i);
    JsonObjectReader row((*list)[i], path, check);
    std::optional<std::string> address = row.String("address", kRequired, 1024);
    const nlohmann::json* vars = row.Object("vars", kOptional);
    row.Finish();
    queue::NewRecipient r;
    if (vars != nullptr) r.variables = ReadVariables(*vars, path + ".vars", check);
    if (!address) continue;
    if (absl::Status s = CheckAddress(*address); !s.ok()) {
      check->Add(path + ".address", "invalid_address", std::string(s.message()));
      continue;
    }
    r.address = std::move(*address);
    out.push_back(std::move(r));
  }
  return out;
}

struct ParsedCampaign {
  queue::Campaign campaign;
  std::vector<queue::NewRecipient> recipients;
  bool open = false;
};

// Compiles the templates as the delivery engine will (422 on failure).
absl::Status CompileTemplate(const queue::Campaign& c, std::string_view from,
                             std::string_view subject,
                             const std::vector<render::Attachment>& attachments) {
  render::TemplateSpec spec;
  spec.from = std::string(from);
  spec.subject = std::string(subject);
  spec.text = c.message_template.text;
  spec.html = c.message_template.html;
  for (const queue::Header& h : c.message_template.headers) {
    if (h.name != "From" && h.name != "Subject") spec.headers.emplace_back(h.name, h.value);
  }
  spec.attachments = attachments;
  absl::StatusOr<std::unique_ptr<render::CampaignTemplate>> compiled =
      render::CampaignTemplate::Compile(spec);
  if (compiled.ok()) return absl::OkStatus();
  std::string reason(compiled.status().message());
  return ApiError(422, "invalid_template", fmt::format("the template does not compile: {}", reason),
                  nlohmann::json::array({{{"code", "invalid_template"}, {"message", reason}}}));
}

absl::StatusOr<ParsedCampaign> ParseCampaign(const nlohmann::json& json) {
  JsonChecker check;
  JsonObjectReader body(json, "", &check);
  ParsedCampaign out;
  queue::Campaign& c = out.campaign;
  std::optional<std::string> name = body.String("name", kRequired, 200);
  std::optional<std::string> from = body.String("from", kRequired, 998);
  std::optional<std::string> subject = body.String("subject", kRequired, 998);
  c.message_template.text = body.String("text", kOptional, size_t{4} << 20).value_or("");
  c.message_template.html = body.String("html", kOptional, size_t{4} << 20).value_or("");
  std::vector<std::pair<std::string, std::string>> headers = ReadHeaders(body);
  std::vector<render::Attachment> attachments = ReadAttachments(body);
  ReadSettings(body, c.settings, &check);
  out.recipients = ReadCampaignRecipients(body, &check);
  out.open = body.Bool("open", kOptional).value_or(false);
  body.Finish();
  if (from) {
    absl::StatusOr<std::string> envelope = EnvelopeAddressOf(*from);
    if (!envelope.ok())
      check.Add("from", "invalid_address", std::string(envelope.status().message()));
    if (envelope.ok()) c.settings.envelope_from = *envelope;
  }
  if (c.message_template.text.empty() && c.message_template.html.empty()) {
    check.Add("text", "missing_field", "text or html is required");
  }
  if (!out.open && out.recipients.empty() && check.ok()) {
    check.Add("recipients", "missing_field",
              "a closed campaign needs recipients (or \"open\": true)");
  }
  RETURN_IF_ERROR(check.ToStatus());
  c.settings.name = *name;
  c.message_template.headers.push_back({"From", *from});
  c.message_template.headers.push_back({"Subject", *subject});
  for (auto& [n, v] : headers) c.message_template.headers.push_back({n, v});
  RETURN_IF_ERROR(CompileTemplate(c, *from, *subject, attachments));
  for (render::Attachment& a : attachments) {
    c.message_template.attachments.push_back(
        {std::move(a.filename), std::move(a.content_type), std::move(a.content), ""});
  }
  return out;
}

// [dkim] campaign_checks: the bulk-sender problems as warnings (for the 202)
// or as a 400 "bulk_sender_rules".
absl::StatusOr<std::vector<std::string>> BulkSenderChecks(const dkim::DkimKeyring* keyring,
                                                          const queue::Campaign& c) {
  if (!keyring || keyring->config()->campaign_checks == CampaignCheck::kOff) {
    return std::vector<std::string>();
  }
  std::string_view from;
  bool own_unsubscribe = false;
  for (const queue::Header& h : c.message_template.headers) {
    if (h.name == "From") from = h.value;
    own_unsubscribe = own_unsubscribe || EqualsIgnoreCase(h.name, "List-Unsubscribe");
  }
  std::vector<std::string> problems =
      keyring->CampaignProblems(from, c.settings.metadata, own_unsubscribe);
  if (problems.empty() || keyring->config()->campaign_checks == CampaignCheck::kWarn) {
    return problems;
  }
  nlohmann::json details = nlohmann::json::array();
  for (const std::string& p : problems) {
    details.push_back({{"code", "bulk_sender_rules"}, {"message", p}});
  }
  return ApiError(400, "bulk_sender_rules", problems.front(), std::move(details));
}

// Adds `recipients` in bounded batches; the count added so far in `added`.
Task<absl::Status> AddInBatches(queue::Spool* spool, queue::CampaignId id,
                                std::vector<queue::NewRecipient>& recipients, size_t* added) {
  for (size_t at = 0; at < recipients.size(); at += kRecipientBatch) {
    size_t end = std::min(recipients.size(), at + kRecipientBatch);
    std::vector<queue::NewRecipient> batch(std::make_move_iterator(recipients.begin() + at),
                                           std::make_move_iterator(recipients.begin() + end));
    absl::StatusOr<std::vector<queue::RecipientId>> ids =
        co_await spool->AddCampaignRecipients(id, std::move(batch));
    if (!ids.ok()) co_return ids.status();
    *added += ids->size();
  }
  co_return absl::OkStatus();
}

Task<absl::StatusOr<HttpResponse>> HandleCreate(std::shared_ptr<const SubmissionContext> context,
                                                HttpRequest& request) {
  CO_ASSIGN_OR_RETURN(nlohmann::json json, co_await ReadJsonBody(request));
  CO_ASSIGN_OR_RETURN(ParsedCampaign parsed, ParseCampaign(json));
  json = nullptr;  // the recipients now live in `parsed` only
  CO_ASSIGN_OR_RETURN(std::vector<std::string> warnings,
                      BulkSenderChecks(context->keyring.get(), parsed.campaign));
  queue::Spool* spool = context->spool;
  absl::StatusOr<queue::CampaignId> id = co_await spool->CreateCampaign(std::move(parsed.campaign));
  if (!id.ok()) co_return SpoolFailure(id.status());
  size_t added = 0;
  absl::Status s = co_await AddInBatches(spool, *id, parsed.recipients, &added);
  if (s.ok() && !parsed.open) s = co_await spool->CloseCampaign(*id);
  if (added > 0 && context->accepted) context->accepted();
  if (!s.ok()) {
    co_return SpoolFailure(s, {{"campaign", id->ToString()}, {"recipients_added", added}});
  }
  nlohmann::ordered_json answer;
  answer["id"] = id->ToString();
  answer["recipients"] = added;
  answer["open"] = parsed.open;
  if (!warnings.empty()) answer["warnings"] = warnings;
  co_return OrderedJsonResponse(202, answer);
}

Task<absl::StatusOr<HttpResponse>> HandleClose(std::shared_ptr<const SubmissionContext> context,
                                               HttpRequest& request) {
  CO_ASSIGN_OR_RETURN(queue::CampaignId id, ContentIdParam(request));
  absl::Status s = co_await context->spool->CloseCampaign(id);
  if (!s.ok()) co_return SpoolFailure(s);
  co_return JsonResponse(200, {{"id", id.ToString()}, {"open", false}});
}

}  // namespace

HttpHandler CreateCampaignV1(std::shared_ptr<const SubmissionContext> context) {
  return [context](HttpRequest& request) { return HandleCreate(context, request); };
}

HttpHandler CloseCampaignV1(std::shared_ptr<const SubmissionContext> context) {
  return [context](HttpRequest& request) { return HandleClose(context, request); };
}

}  // namespace salvo::api
