#include "engine/delivery/message_renderer.h"

#include <cctype>

#include "absl/time/clock.h"
#include "fmt/format.h"
#include "nlohmann/json.hpp"

namespace salvo::delivery {
namespace {

bool HeaderIs(std::string_view name, std::string_view want) {
  if (name.size() != want.size()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(name[i])) != want[i]) return false;
  }
  return true;
}

render::TemplateSpec SpecFor(const queue::Campaign& c) {
  render::TemplateSpec spec;
  for (const queue::Header& h : c.message_template.headers) {
    if (HeaderIs(h.name, "from")) {
      spec.from = h.value;
    } else if (HeaderIs(h.name, "subject")) {
      spec.subject = h.value;
    } else {
      spec.headers.emplace_back(h.name, h.value);
    }
  }
  if (spec.from.empty()) spec.from = c.settings.envelope_from;
  spec.text = c.message_template.text;
  spec.html = c.message_template.html;
  for (const queue::Attachment& a : c.message_template.attachments) {
    spec.attachments.push_back({a.filename, a.content_type, a.data});
  }
  return spec;
}

std::string NotifyText(uint8_t notify) {
  if (notify == 0) return "";
  if (notify & queue::kNotifyNever) return "NEVER";
  std::string out;
  auto add = [&](uint8_t bit, const char* word) {
    if (!(notify & bit)) return;
    if (!out.empty()) out += ',';
    out += word;
  };
  add(queue::kNotifySuccess, "SUCCESS");
  add(queue::kNotifyFailure, "FAILURE");
  add(queue::kNotifyDelay, "DELAY");
  return out;
}

std::string RetText(queue::DsnReturn ret) {
  switch (ret) {
    case queue::DsnReturn::kFull:
      return "FULL";
    case queue::DsnReturn::kHeaders:
      return "HDRS";
    default:
      return "";
  }
}

smtp::RecipientSpec SpecOf(const LeasedRecipient& r) {
  return smtp::RecipientSpec{
      .address = r.address, .notify = NotifyText(r.dsn.notify), .orcpt = r.dsn.orcpt};
}

}  // namespace

absl::StatusOr<std::shared_ptr<const LoadedContent>> PrepareContent(
    std::shared_ptr<const queue::Content> content) {
  auto loaded = std::make_shared<LoadedContent>();
  if (const auto* m = std::get_if<queue::Message>(content.get())) {
    loaded->message = m;
    loaded->record = std::move(content);
    return std::shared_ptr<const LoadedContent>(std::move(loaded));
  }
  const auto& c = std::get<queue::Campaign>(*content);
  auto compiled = render::CampaignTemplate::Compile(SpecFor(c));
  if (!compiled.ok()) return compiled.status();
  loaded->campaign = std::move(*compiled);
  loaded->settings = c.settings;
  return std::shared_ptr<const LoadedContent>(std::move(loaded));
}

absl::StatusOr<std::shared_ptr<const LoadedContent>> PrepareContent(queue::Content content) {
  return PrepareContent(std::make_shared<const queue::Content>(std::move(content)));
}

Task<absl::StatusOr<std::shared_ptr<const LoadedContent>>> ContentCache::Get(
    queue::ContentId id, std::shared_ptr<const queue::Content> ahead) {
  auto it = slots_.find(id);
  std::shared_ptr<Slot> slot;
  if (it == slots_.end()) {
    slot = std::make_shared<Slot>();
    slots_.emplace(id, slot);
    order_.push_back(id);
    if (ahead != nullptr) {
      slot->result = PrepareContent(std::move(ahead));
      Evict();
    } else {
      co_await Load(id, slot);
    }
  } else {
    slot = it->second;
    // Named, not a braced temporary in the co_await: g++ 12 destroys such
    // temporaries twice (here: one shared_ptr release too many, which freed
    // the cached slot under the next reader).
    SlotAwaiter loaded{slot};
    co_await loaded;
  }
  absl::StatusOr<std::shared_ptr<const LoadedContent>> result = *slot->result;
  co_return result;
}

Task<void> ContentCache::Load(queue::ContentId id, std::shared_ptr<Slot> slot) {
  absl::StatusOr<queue::Content> content = co_await spool_->ReadContent(id);
  if (content.ok()) {
    slot->result = PrepareContent(std::move(*content));
  } else {
    slot->result = content.status();
  }
  if (!slot->result->ok()) {
    auto it = slots_.find(id);
    if (it != slots_.end() && it->second == slot) slots_.erase(it);  // retry next time
  }
  std::vector<std::coroutine_handle<>> waiters = std::move(slot->waiters);
  slot->waiters.clear();
  for (auto h : waiters) h.resume();
  Evict();
}

void ContentCache::Evict() {
  while (slots_.size() > max_entries_ && !order_.empty()) {
    queue::ContentId oldest = order_.front();
    order_.pop_front();
    auto it = slots_.find(oldest);
    if (it != slots_.end() && it->second->result.has_value()) slots_.erase(it);
  }
  while (order_.size() > 2 * max_entries_ + 16) order_.pop_front();
}

std::string_view LoadedContent::Tag(std::string_view name) const {
  for (const auto& [k, v] : settings.metadata) {
    if (k == name) return v;
  }
  return "";
}

MessageRenderer::MessageRenderer(std::string hostname, std::string verp_secret,
                                 std::string bounce_domain)
    : hostname_(std::move(hostname)), bounce_domain_(std::move(bounce_domain)) {
  if (!verp_secret.empty()) unsubscribe_.emplace(verp_secret);
  if (!verp_secret.empty() && !bounce_domain_.empty()) verp_.emplace(std::move(verp_secret));
}

smtp::Envelope MessageRenderer::MessageEnvelope(
    const queue::Message& message, const std::vector<LeasedRecipient>& recipients) const {
  smtp::Envelope e;
  e.reverse_path = message.envelope_from;
  e.ret = RetText(message.ret);
  e.envid = message.envid;
  for (const LeasedRecipient& r : recipients) e.recipients.push_back(SpecOf(r));
  return e;
}

std::vector<std::pair<std::string, std::string>> MessageRenderer::BulkHeaders(
    const LoadedContent& content, const LeasedRecipient& r, std::string_view public_url) const {
  std::vector<std::pair<std::string, std::string>> h;
  const render::CampaignTemplate& t = *content.campaign;
  if (content.Tag("unsubscribe") != "off" && !t.HasHeader("List-Unsubscribe")) {
    std::string value;
    if (!public_url.empty() && unsubscribe_) {
      render::UnsubscribeTarget target;
      std::string rid = r.due.id.Bytes(), cid = r.due.content.Bytes();
      std::copy(rid.begin(), rid.end(), target.recipient.begin());
      std::copy(cid.begin(), cid.end(), target.campaign.begin());
      target.address = r.address;
      value = fmt::format("<{}>", render::UnsubscribeUrl(public_url, unsubscribe_->Token(target)));
    }
    if (std::string_view mailto = content.Tag("unsubscribe_mailto"); !mailto.empty()) {
      value += fmt::format("{}<mailto:{}?subject=unsubscribe>", value.empty() ? "" : ", ", mailto);
    }
    if (!value.empty()) h.emplace_back("List-Unsubscribe", std::move(value));
    // RFC 8058 §3.1: only with an HTTPS (here also http, for tests) URI.
    if (!public_url.empty() && unsubscribe_ && !t.HasHeader("List-Unsubscribe-Post")) {
      h.emplace_back("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
    }
  }
  if (std::string_view list_id = content.Tag("list_id");
      !list_id.empty() && !t.HasHeader("List-Id")) {
    h.emplace_back("List-Id", fmt::format("<{}>", list_id));
  }
  if (std::string_view p = content.Tag("precedence"); !p.empty() && !t.HasHeader("Precedence")) {
    h.emplace_back("Precedence", std::string(p));
  }
  if (!t.HasHeader("Feedback-ID")) {
    auto part = [&](std::string_view tag, std::string_view fallback) {
      std::string v(content.Tag(tag));
      if (v.empty()) v = fallback;
      std::erase_if(v, [](char c) { return c == ':' || c == ' ' || c == '\t'; });
      return v;
    };
    h.emplace_back("Feedback-ID",
                   fmt::format("{}:{}:{}:{}", part("feedback_campaign", r.due.content.ToString()),
                               part("customer", "default"), part("mail_type", "bulk"),
                               part("sender_id", hostname_)));
  }
  return h;
}

absl::Status MessageRenderer::RenderCampaign(const LoadedContent& content, const LeasedRecipient& r,
                                             smtp::Envelope& envelope, std::string& out,
                                             std::string_view public_url) const {
  envelope.recipients.clear();
  envelope.recipients.push_back(SpecOf(r));
  envelope.ret = RetText(content.settings.ret);
  envelope.envid = content.settings.envid;
  if (verp_) {
    render::RecipientKey key;
    std::string bytes = r.due.id.Bytes();
    std::copy(bytes.begin(), bytes.end(), key.begin());
    envelope.reverse_path = verp_->ReturnPath(key, bounce_domain_);
  } else {
    envelope.reverse_path = content.settings.envelope_from;
  }
  nlohmann::json vars = nlohmann::json::object();
  for (const auto& [name, value] : r.variables) vars[name] = value;
  std::string message_id = fmt::format("{}@{}", r.due.id.ToString(), hostname_);
  std::string date = render::Rfc5322Date(absl::ToUnixSeconds(absl::Now()));
  render::MessageContext ctx{.to = r.address,
                             .message_id = message_id,
                             .date = date,
                             .extra_headers = BulkHeaders(content, r, public_url)};
  return content.campaign->Render(vars, ctx, out);
}

}  // namespace salvo::delivery
