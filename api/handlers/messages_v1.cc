#include "api/handlers/messages_v1.h"

#include "absl/time/clock.h"
#include "api/handlers/message_builder.h"
#include "api/http/api_error.h"
#include "engine/base/status_macros.h"
#include "fmt/format.h"

namespace salvo::api {
namespace {

struct ParsedMessage {
  std::string envelope_from;
  std::vector<queue::NewRecipient> recipients;
  std::string content;
};

std::vector<std::string> ReadRecipients(JsonObjectReader& body, JsonChecker* check) {
  std::vector<std::string> out;
  const nlohmann::json* to = body.Array("to", kRequired, kMaxMessageRecipients);
  if (to == nullptr) return out;
  if (to->empty()) check->Add("to", "invalid_field", "at least one recipient");
  for (size_t i = 0; i < to->size(); ++i) {
    std::string field = fmt::format("to[{}]", i);
    const nlohmann::json& v = (*to)[i];
    if (!v.is_string()) {
      check->Add(field, "invalid_field", "must be a string");
    } else if (absl::Status s = CheckAddress(v.get_ref<const std::string&>()); !s.ok()) {
      check->Add(field, "invalid_address", std::string(s.message()));
    } else {
      out.push_back(v.get<std::string>());
    }
  }
  return out;
}

absl::StatusOr<ParsedMessage> ParseMessage(const nlohmann::json& json) {
  JsonChecker check;
  JsonObjectReader body(json, "", &check);
  MessageFields m;
  std::optional<std::string> from = body.String("from", kRequired, 998);
  m.to = ReadRecipients(body, &check);
  std::optional<std::string> raw = body.String("raw", kOptional, kMessageBodyLimit);
  std::optional<std::string> subject = body.String("subject", kOptional, 998);
  std::optional<std::string> text = body.String("text", kOptional, kMessageBodyLimit);
  std::optional<std::string> html = body.String("html", kOptional, kMessageBodyLimit);
  m.headers = ReadHeaders(body);
  m.attachments = ReadAttachments(body);
  body.Finish();
  ParsedMessage out;
  if (from) {
    absl::StatusOr<std::string> envelope = EnvelopeAddressOf(*from);
    if (!envelope.ok()) {
      check.Add("from", "invalid_address", std::string(envelope.status().message()));
    } else {
      out.envelope_from = *envelope;
      m.from = *from;
    }
  }
  bool fields = subject || text || html || !m.headers.empty() || !m.attachments.empty();
  if (raw && fields) {
    check.Add("raw", "invalid_field", "raw excludes subject, text, html, headers, attachments");
  } else if (raw && raw->find(':') == std::string::npos) {
    check.Add("raw", "invalid_field", "raw must be an RFC 5322 message (headers, then body)");
  } else if (!raw && (!text || text->empty()) && (!html || html->empty())) {
    check.Add("text", "missing_field", "text or html (or raw) is required");
  }
  RETURN_IF_ERROR(check.ToStatus());
  if (raw) {
    out.content = NormalizeRawMessage(*raw);
  } else {
    m.subject = subject.value_or("");
    m.text = text.value_or("");
    m.html = html.value_or("");
    std::string seed = queue::NewId<queue::MessageId>().ToString();
    std::string domain = out.envelope_from.substr(out.envelope_from.rfind('@') + 1);
    out.content =
        BuildMessage(m, fmt::format("{}@{}", seed, domain), absl::ToUnixSeconds(absl::Now()), seed);
  }
  for (std::string& address : m.to) out.recipients.push_back({.address = std::move(address)});
  return out;
}

Task<absl::StatusOr<HttpResponse>> HandleMessage(std::shared_ptr<const SubmissionContext> context,
                                                 HttpRequest& request) {
  CO_ASSIGN_OR_RETURN(nlohmann::json json, co_await ReadJsonBody(request));
  CO_ASSIGN_OR_RETURN(ParsedMessage parsed, ParseMessage(json));
  queue::Message message{.envelope_from = std::move(parsed.envelope_from),
                         .content = std::move(parsed.content)};
  absl::StatusOr<queue::AcceptedMessage> accepted =
      co_await context->spool->AcceptMessage(std::move(message), std::move(parsed.recipients));
  if (!accepted.ok()) co_return SpoolFailure(accepted.status());
  if (context->accepted) context->accepted();
  nlohmann::ordered_json answer;
  answer["id"] = accepted->id.ToString();
  nlohmann::ordered_json ids = nlohmann::ordered_json::array();
  for (const queue::RecipientId& id : accepted->recipients) ids.push_back(id.ToString());
  answer["recipients"] = std::move(ids);
  co_return OrderedJsonResponse(202, answer);
}

}  // namespace

HttpHandler MessagesV1(std::shared_ptr<const SubmissionContext> context) {
  return [context](HttpRequest& request) { return HandleMessage(context, request); };
}

}  // namespace salvo::api
