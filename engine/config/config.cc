#include "engine/config/config.h"

namespace salvo {

using std::chrono::minutes;
using std::chrono::seconds;

ListenerTls DefaultListenerTls(ListenerKind kind) {
  switch (kind) {
    case ListenerKind::kSmtps:
    case ListenerKind::kPop3s:
    case ListenerKind::kImaps:
      return ListenerTls::kImplicit;
    case ListenerKind::kHttp:
      return ListenerTls::kNone;
    case ListenerKind::kSmtp:
    case ListenerKind::kSubmission:
    case ListenerKind::kBounce:
    case ListenerKind::kPop3:
    case ListenerKind::kImap:
      break;
  }
  return ListenerTls::kStartTls;
}

ListenerLimits DefaultListenerLimits(ListenerKind kind) {
  switch (kind) {
    case ListenerKind::kSmtp:
    case ListenerKind::kSubmission:
    case ListenerKind::kSmtps:
    case ListenerKind::kBounce:
      // RFC 5321 §4.5.3.2.7: a server waits 5 minutes for the next command.
      return {.max_connections = 1000,
              .max_line_length = 2048,
              .max_message_size = 50ull << 20,
              .command_timeout = minutes(5)};
    case ListenerKind::kHttp:
      // Request bodies carry whole campaigns (recipient lists), streamed.
      return {.max_connections = 1000,
              .max_line_length = 8192,
              .max_message_size = 1ull << 30,
              .command_timeout = seconds(60)};
    case ListenerKind::kPop3:
    case ListenerKind::kPop3s:
      // RFC 1939 §3: the autologout timer is at least 10 minutes.
      return {.max_connections = 1000,
              .max_line_length = 1024,
              .max_message_size = 50ull << 20,
              .command_timeout = minutes(10)};
    case ListenerKind::kImap:
    case ListenerKind::kImaps:
      // RFC 3501 §5.4: the autologout timer is at least 30 minutes.
      return {.max_connections = 1000,
              .max_line_length = 65536,
              .max_message_size = 50ull << 20,
              .command_timeout = minutes(30)};
  }
  return {};
}

const DeliveryPolicy& DeliveryConfig::PolicyFor(std::string_view domain,
                                                std::string_view mx_host) const {
  for (const DestinationRule& rule : destinations) {
    if (rule.match == MatchOn::kDomain && rule.pattern.Matches(domain)) return rule.policy;
    if (rule.match == MatchOn::kMxHost && !mx_host.empty() && rule.pattern.Matches(mx_host)) {
      return rule.policy;
    }
  }
  return defaults;
}

const SourcePool* Config::FindSourcePool(std::string_view name) const {
  for (const SourcePool& pool : source_pools) {
    if (pool.name == name) return &pool;
  }
  return nullptr;
}

const Route* Config::FindRoute(std::string_view domain) const {
  for (const Route& route : routes) {
    if (route.domain.Matches(domain)) return &route;
  }
  return nullptr;
}

std::string_view ToString(ListenerKind kind) {
  switch (kind) {
    case ListenerKind::kSmtp:
      return "smtp";
    case ListenerKind::kSubmission:
      return "submission";
    case ListenerKind::kSmtps:
      return "smtps";
    case ListenerKind::kHttp:
      return "http";
    case ListenerKind::kPop3:
      return "pop3";
    case ListenerKind::kPop3s:
      return "pop3s";
    case ListenerKind::kImap:
      return "imap";
    case ListenerKind::kImaps:
      return "imaps";
    case ListenerKind::kBounce:
      return "bounce";
  }
  return "?";
}

std::string_view ToString(ListenerTls tls) {
  switch (tls) {
    case ListenerTls::kNone:
      return "none";
    case ListenerTls::kStartTls:
      return "starttls";
    case ListenerTls::kImplicit:
      return "implicit";
  }
  return "?";
}

std::string_view ToString(TlsPolicy policy) {
  switch (policy) {
    case TlsPolicy::kOff:
      return "off";
    case TlsPolicy::kOpportunistic:
      return "opportunistic";
    case TlsPolicy::kRequired:
      return "required";
  }
  return "?";
}

std::string_view ToString(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kCritical:
      return "critical";
    case LogLevel::kOff:
      return "off";
  }
  return "?";
}

}  // namespace salvo
