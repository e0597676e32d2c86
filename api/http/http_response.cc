#include "api/http/http_response.h"

#include <ctime>

#include "fmt/format.h"

namespace salvo {

HttpResponse HttpResponse::Text(int status, std::string body, std::string_view content_type) {
  HttpResponse r;
  r.status = status;
  r.headers.Add("Content-Type", content_type);
  r.body = std::move(body);
  return r;
}

std::string_view HttpReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    case 507:
      return "Insufficient Storage";
    default:
      return "Unknown";
  }
}

std::string_view HttpDateNow() {
  thread_local std::time_t cached_second = -1;
  thread_local char text[40];
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_second = now;
  }
  return text;
}

void AppendResponseHead(std::string& out, const HttpResponse& response,
                        const ResponseFraming& framing) {
  out += fmt::format("HTTP/1.1 {} {}\r\n", response.status, HttpReasonPhrase(response.status));
  for (const auto& [name, value] : response.headers.fields()) {
    // A CR or LF from a handler would split the response: never send it.
    if (name.find_first_of("\r\n:") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos) {
      continue;
    }
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "Date: ";
  out += HttpDateNow();
  out += "\r\n";
  if (framing.content_length) {
    out += fmt::format("Content-Length: {}\r\n", *framing.content_length);
  } else if (framing.chunked) {
    out += "Transfer-Encoding: chunked\r\n";
  }
  out += framing.keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  out += "\r\n";
}

}  // namespace salvo
