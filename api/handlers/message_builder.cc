#include "api/handlers/message_builder.h"

#include "absl/strings/str_join.h"
#include "engine/render/mime.h"
#include "fmt/format.h"

namespace salvo::api {
namespace {

void AppendHeader(std::string_view name, std::string_view value, std::string& out) {
  out.append(name);
  out += ": ";
  render::AppendHeaderValue(value, name.size(), out);
  out += "\r\n";
}

void EndWithCrlf(std::string& out) {
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
}

void AppendTextPart(std::string_view subtype, std::string_view text, std::string& out) {
  out += fmt::format("Content-Type: text/{}; charset=utf-8\r\n", subtype);
  if (render::Is7BitSafe(text)) {
    out += "Content-Transfer-Encoding: 7bit\r\n\r\n";
    render::AppendCrlf(text, out);
  } else {
    out += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
    render::AppendQuotedPrintable(text, out);
  }
  EndWithCrlf(out);
}

void AppendBody(const MessageFields& m, const std::string& boundary, std::string& out) {
  if (m.text.empty() || m.html.empty()) {
    AppendTextPart(m.html.empty() ? "plain" : "html", m.html.empty() ? m.text : m.html, out);
    return;
  }
  out += fmt::format("Content-Type: multipart/alternative; boundary=\"{}\"\r\n\r\n", boundary);
  out += fmt::format("--{}\r\n", boundary);
  AppendTextPart("plain", m.text, out);
  out += fmt::format("--{}\r\n", boundary);
  AppendTextPart("html", m.html, out);
  out += fmt::format("--{}--\r\n", boundary);
}

void AppendAttachment(const render::Attachment& a, std::string& out) {
  out += fmt::format("Content-Type: {}; name=\"{}\"\r\n", a.content_type, a.filename);
  out += "Content-Transfer-Encoding: base64\r\n";
  out += fmt::format("Content-Disposition: attachment; filename=\"{}\"\r\n\r\n", a.filename);
  render::AppendBase64Lines(a.content, out);
  EndWithCrlf(out);
}

}  // namespace

std::string BuildMessage(const MessageFields& m, std::string_view message_id, int64_t unix_seconds,
                         std::string_view boundary_seed) {
  std::string out;
  AppendHeader("From", m.from, out);
  AppendHeader("To", absl::StrJoin(m.to, ", "), out);
  if (!m.subject.empty()) AppendHeader("Subject", m.subject, out);
  AppendHeader("Date", render::Rfc5322Date(unix_seconds), out);
  out += fmt::format("Message-ID: <{}>\r\n", message_id);
  for (const auto& [name, value] : m.headers) AppendHeader(name, value, out);
  out += "MIME-Version: 1.0\r\n";
  std::string alternative = fmt::format("=_alt_{}", boundary_seed);
  if (m.attachments.empty()) {
    AppendBody(m, alternative, out);
    return out;
  }
  std::string mixed = fmt::format("=_mix_{}", boundary_seed);
  out += fmt::format("Content-Type: multipart/mixed; boundary=\"{}\"\r\n\r\n", mixed);
  out += fmt::format("--{}\r\n", mixed);
  AppendBody(m, alternative, out);
  for (const render::Attachment& a : m.attachments) {
    out += fmt::format("--{}\r\n", mixed);
    AppendAttachment(a, out);
  }
  out += fmt::format("--{}--\r\n", mixed);
  return out;
}

std::string NormalizeRawMessage(std::string_view raw) {
  std::string out;
  out.reserve(raw.size() + raw.size() / 32 + 2);
  render::AppendCrlf(raw, out);
  EndWithCrlf(out);
  return out;
}

}  // namespace salvo::api
