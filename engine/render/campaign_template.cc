#include "engine/render/campaign_template.h"

#include <algorithm>
#include <ctime>
#include <functional>

#include "engine/render/mime.h"
#include "fmt/format.h"
#include "kainjow/mustache.hpp"
#include "nlohmann/json.hpp"

namespace salvo::render {
namespace {

namespace mstch = kainjow::mustache;

constexpr std::string_view kBoundaryPrefix = "=_salvo_";

mstch::data ToMustache(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      mstch::data d{mstch::data::type::object};
      for (auto it = j.begin(); it != j.end(); ++it) d.set(it.key(), ToMustache(it.value()));
      return d;
    }
    case nlohmann::json::value_t::array: {
      mstch::data d{mstch::data::type::list};
      for (const auto& v : j) d.push_back(ToMustache(v));
      return d;
    }
    case nlohmann::json::value_t::string:
      return mstch::data(j.get<std::string>());
    case nlohmann::json::value_t::boolean:
      return j.get<bool>() ? mstch::data(mstch::data::type::bool_true)
                           : mstch::data(mstch::data::type::bool_false);
    case nlohmann::json::value_t::null:
      return mstch::data(mstch::data::type::bool_false);
    default:
      return mstch::data(j.dump());
  }
}

bool ValidHeaderName(std::string_view n) {
  if (n.empty() || n.size() > 76) return false;
  for (unsigned char c : n) {
    if (c <= 32 || c >= 127 || c == ':') return false;
  }
  return true;
}

bool IsReservedHeader(std::string_view n) {
  static constexpr std::string_view kReserved[] = {
      "from",       "to",           "subject",      "date",
      "message-id", "mime-version", "content-type", "content-transfer-encoding",
      "return-path"};
  std::string lower(n);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto r : kReserved) {
    if (lower == r) return true;
  }
  return false;
}

}  // namespace

struct CampaignTemplate::Compiled {
  std::unique_ptr<mstch::mustache> from, subject, text, html;
  std::vector<std::pair<std::string, std::unique_ptr<mstch::mustache>>> headers;
  std::vector<std::string> attachment_parts;  // headers + base64 body, boundary-free
  // Boundary suffix of a static body (same for every recipient); empty when
  // the body uses variables (the Message-ID is used then).
  std::string static_boundary;
};

namespace {

absl::StatusOr<std::unique_ptr<mstch::mustache>> CompileOne(std::string_view field,
                                                            const std::string& text,
                                                            bool html_escape) {
  auto m = std::make_unique<mstch::mustache>(text);
  if (!m->is_valid()) {
    return absl::InvalidArgumentError(fmt::format("{}: {}", field, m->error_message()));
  }
  if (!html_escape) m->set_custom_escape([](const std::string& s) { return s; });
  return m;
}

void RenderInto(mstch::mustache& m, const mstch::data& data, std::string& out) {
  m.render(data, [&out](const std::string& s) { out += s; });
}

// Appends "Name: value" with the display name of an address header encoded
// when needed and the address itself left as it is.
void AppendAddressHeader(std::string_view name, std::string_view value, std::string& out) {
  out += name;
  out += ": ";
  size_t lt = value.rfind('<');
  if (lt != std::string_view::npos && value.back() == '>' && lt > 0) {
    std::string_view display = value.substr(0, lt);
    while (!display.empty() && display.back() == ' ') display.remove_suffix(1);
    AppendHeaderValue(display, name.size(), out);
    out += ' ';
    AppendHeaderValue(value.substr(lt), 0, out);
  } else {
    AppendHeaderValue(value, name.size(), out);
  }
  out += "\r\n";
}

void AppendTextPart(std::string_view content_type, std::string_view body, std::string& out) {
  bool plain = Is7BitSafe(body) && body.find(kBoundaryPrefix) == std::string_view::npos;
  out += fmt::format("Content-Type: {}; charset=utf-8\r\nContent-Transfer-Encoding: {}\r\n\r\n",
                     content_type, plain ? "7bit" : "quoted-printable");
  if (plain) {
    AppendCrlf(body, out);
  } else {
    AppendQuotedPrintable(body, out);
  }
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
}

// RFC 2046 §5.1.1: the CRLF before a boundary delimiter belongs to the
// delimiter, so a part's own final line break needs one more.
void AppendDelimiter(std::string_view boundary, bool close, std::string& out) {
  out += "\r\n--";
  out += boundary;
  out += close ? "--\r\n" : "\r\n";
}

}  // namespace

absl::StatusOr<std::unique_ptr<CampaignTemplate>> CampaignTemplate::Compile(
    const TemplateSpec& spec) {
  auto c = std::make_unique<Compiled>();
  if (spec.from.empty()) return absl::InvalidArgumentError("from: required");
  if (spec.text.empty() && spec.html.empty()) {
    return absl::InvalidArgumentError("text, html: at least one is required");
  }
  auto from = CompileOne("from", spec.from, false);
  if (!from.ok()) return from.status();
  c->from = std::move(*from);
  auto subject = CompileOne("subject", spec.subject, false);
  if (!subject.ok()) return subject.status();
  c->subject = std::move(*subject);
  if (!spec.text.empty()) {
    auto t = CompileOne("text", spec.text, false);
    if (!t.ok()) return t.status();
    c->text = std::move(*t);
  }
  if (!spec.html.empty()) {
    auto h = CompileOne("html", spec.html, true);
    if (!h.ok()) return h.status();
    c->html = std::move(*h);
  }
  for (const auto& [name, value] : spec.headers) {
    if (!ValidHeaderName(name)) {
      return absl::InvalidArgumentError(fmt::format("headers: invalid header name '{}'", name));
    }
    if (IsReservedHeader(name)) {
      return absl::InvalidArgumentError(
          fmt::format("headers: '{}' is set by Salvo and cannot be overridden", name));
    }
    auto m = CompileOne(fmt::format("headers.{}", name), value, false);
    if (!m.ok()) return m.status();
    c->headers.emplace_back(name, std::move(*m));
  }
  for (size_t i = 0; i < spec.attachments.size(); ++i) {
    const Attachment& a = spec.attachments[i];
    if (a.filename.empty() || a.filename.find_first_of("\"\r\n\\") != std::string::npos) {
      return absl::InvalidArgumentError(fmt::format("attachments[{}].filename: invalid", i));
    }
    std::string part = fmt::format(
        "Content-Type: {}; name=\"{}\"\r\nContent-Disposition: attachment; filename=\"{}\"\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n",
        a.content_type.empty() ? "application/octet-stream" : a.content_type, a.filename,
        a.filename);
    AppendBase64Lines(a.content, part);
    c->attachment_parts.push_back(std::move(part));
  }
  if (spec.text.find("{{") == std::string::npos && spec.html.find("{{") == std::string::npos) {
    // Any suffix is safe: text parts holding the prefix are quoted-printable
    // ("=" becomes "=3D") and base64 holds no "_".
    uint64_t h = std::hash<std::string>()(spec.text + '\0' + spec.html);
    c->static_boundary = fmt::format("s{:016x}", h);
  }
  return std::unique_ptr<CampaignTemplate>(new CampaignTemplate(std::move(c)));
}

bool CampaignTemplate::static_body() const { return !c_->static_boundary.empty(); }

bool CampaignTemplate::HasHeader(std::string_view name) const {
  for (const auto& [n, m] : c_->headers) {
    if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return true;
    }
  }
  return false;
}

CampaignTemplate::CampaignTemplate(std::unique_ptr<Compiled> c) : c_(std::move(c)) {}
CampaignTemplate::~CampaignTemplate() = default;

absl::Status CampaignTemplate::Render(const nlohmann::json& variables, const MessageContext& ctx,
                                      std::string& out) const {
  out.clear();
  mstch::data data =
      variables.is_object() ? ToMustache(variables) : mstch::data(mstch::data::type::object);
  std::string scratch;
  RenderInto(*c_->from, data, scratch);
  AppendAddressHeader("From", scratch, out);
  AppendAddressHeader("To", ctx.to, out);
  scratch.clear();
  RenderInto(*c_->subject, data, scratch);
  out += "Subject: ";
  AppendHeaderValue(scratch, 7, out);
  out += "\r\n";
  out += fmt::format("Date: {}\r\nMessage-ID: <{}>\r\nMIME-Version: 1.0\r\n", ctx.date,
                     ctx.message_id);
  for (const auto& [name, m] : c_->headers) {
    scratch.clear();
    RenderInto(*m, data, scratch);
    out += name;
    out += ": ";
    AppendHeaderValue(scratch, name.size(), out);
    out += "\r\n";
  }
  for (const auto& [name, value] : ctx.extra_headers) {
    out += name;
    out += ": ";
    AppendHeaderValue(value, name.size(), out);
    out += "\r\n";
  }

  std::string text, html;
  if (c_->text) RenderInto(*c_->text, data, text);
  if (c_->html) RenderInto(*c_->html, data, html);
  std::string_view unique =
      c_->static_boundary.empty() ? ctx.message_id : std::string_view(c_->static_boundary);
  std::string alt_boundary = fmt::format("{}a_{}", kBoundaryPrefix, unique);
  std::string mix_boundary = fmt::format("{}m_{}", kBoundaryPrefix, unique);
  bool mixed = !c_->attachment_parts.empty();
  if (mixed) {
    out += fmt::format("Content-Type: multipart/mixed; boundary=\"{}\"\r\n\r\n--{}\r\n",
                       mix_boundary, mix_boundary);
  }
  if (c_->text && c_->html) {
    out += fmt::format("Content-Type: multipart/alternative; boundary=\"{}\"\r\n\r\n--{}\r\n",
                       alt_boundary, alt_boundary);
    AppendTextPart("text/plain", text, out);
    AppendDelimiter(alt_boundary, false, out);
    AppendTextPart("text/html", html, out);
    AppendDelimiter(alt_boundary, true, out);
  } else if (c_->text) {
    AppendTextPart("text/plain", text, out);
  } else {
    AppendTextPart("text/html", html, out);
  }
  if (mixed) {
    for (const auto& part : c_->attachment_parts) {
      AppendDelimiter(mix_boundary, false, out);
      out += part;
    }
    AppendDelimiter(mix_boundary, true, out);
  }
  return absl::OkStatus();
}

std::string Rfc5322Date(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

}  // namespace salvo::render
