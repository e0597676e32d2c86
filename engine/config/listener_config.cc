// [[listener]] tables: kind, name, address, tls mode and per-kind limits.
#include <algorithm>
#include <cctype>

#include "engine/base/strings.h"
#include "engine/config/config_sections.h"

namespace salvo::config_internal {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

bool ImplicitOnly(ListenerKind kind) {
  return kind == ListenerKind::kSmtps || kind == ListenerKind::kPop3s ||
         kind == ListenerKind::kImaps;
}

// Why `tls` cannot be used on a listener of `kind`, or "" if it can.
std::string TlsConflict(ListenerKind kind, ListenerTls tls) {
  if (ImplicitOnly(kind) && tls != ListenerTls::kImplicit) {
    return fmt::format("{} listeners always use implicit TLS", ToString(kind));
  }
  if (kind == ListenerKind::kHttp && tls == ListenerTls::kStartTls) {
    return "HTTP has no STARTTLS; use \"implicit\" for HTTPS";
  }
  if (!ImplicitOnly(kind) && kind != ListenerKind::kHttp && tls == ListenerTls::kImplicit) {
    return fmt::format("use kind = \"{}s\" for implicit TLS",
                       kind == ListenerKind::kSubmission ? "smtp" : ToString(kind));
  }
  return "";
}

absl::StatusOr<std::string> ListenerName(std::string_view text) {
  bool good =
      !text.empty() && text.size() <= 64 && std::all_of(text.begin(), text.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      });
  if (!good) {
    return absl::InvalidArgumentError(
        fmt::format("listener name \"{}\" must be 1 to 64 letters, digits, '-' or '_'", text));
  }
  return std::string(text);
}

absl::StatusOr<SocketAddress> ListenAddress(std::string_view text) {
  auto a = SocketAddress::Parse(text);
  if (!a.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("bad address \"{}\": {} (write \"127.0.0.1:2525\" or \"[::1]:2525\")", text,
                    ToStd(a.status().message())));
  }
  if (a->port() == 0) {
    return absl::InvalidArgumentError(
        fmt::format("address \"{}\" needs a port from 1 to 65535", text));
  }
  return a;
}

void ReadLimits(TableReader& t, ListenerLimits* limits) {
  t.Int("max_connections", 1, 1000000, &limits->max_connections);
  t.Size("max_line_length", 512, 1ull << 20, &limits->max_line_length);
  t.Size("max_message_size", 1ull << 10, 16ull << 30, &limits->max_message_size);
  t.Duration("command_timeout", seconds(1), hours(24), &limits->command_timeout);
}

// Returns false when the listener's name is unknown (no name, bad kind).
bool ReadListener(TableReader& t, ListenerConfig* l) {
  if (!t.Has("kind")) {
    t.Error(t.where(), t.PathOf("kind"), "missing required key (the listener's protocol)");
  }
  bool kind_ok = t.Enum("kind",
                        {{"smtp", ListenerKind::kSmtp},
                         {"submission", ListenerKind::kSubmission},
                         {"smtps", ListenerKind::kSmtps},
                         {"http", ListenerKind::kHttp},
                         {"pop3", ListenerKind::kPop3},
                         {"pop3s", ListenerKind::kPop3s},
                         {"imap", ListenerKind::kImap},
                         {"imaps", ListenerKind::kImaps},
                         {"bounce", ListenerKind::kBounce}},
                        &l->kind);
  l->name = std::string(ToString(l->kind));
  l->tls = DefaultListenerTls(l->kind);
  l->limits = DefaultListenerLimits(l->kind);
  if (!t.Has("address")) {
    t.Error(t.where(), t.PathOf("address"), "missing required key (e.g. \"127.0.0.1:2525\")");
  }
  t.Parsed("address", ListenAddress, &l->address);
  bool tls_set = t.Enum("tls",
                        {{"none", ListenerTls::kNone},
                         {"starttls", ListenerTls::kStartTls},
                         {"implicit", ListenerTls::kImplicit}},
                        &l->tls);
  if (kind_ok && tls_set) {
    if (std::string why = TlsConflict(l->kind, l->tls); !why.empty()) t.Error("tls", why);
  }
  ReadLimits(t, &l->limits);
  bool named = t.Parsed("name", ListenerName, &l->name);
  t.Finish();
  return named || (kind_ok && !t.Has("name"));
}

}  // namespace

void ReadListeners(TableReader& root, std::vector<ListenerConfig>* out) {
  for (TableReader& t : root.ArrayOfTables("listener")) {
    ListenerConfig l;
    bool named = ReadListener(t, &l);
    for (const ListenerConfig& other : *out) {
      if (l.address.len() != 0 && other.address.len() != 0 &&
          other.address.ToString() == l.address.ToString()) {
        t.Error("address", fmt::format("address {} is already used by listener \"{}\"",
                                       l.address.ToString(), other.name));
      }
      if (named && other.name == l.name) {
        t.Error(t.Has("name") ? t.Where("name") : t.where(), t.PathOf("name"),
                fmt::format("two listeners are named \"{}\"; give each a unique name", l.name));
      }
    }
    out->push_back(std::move(l));
  }
}

}  // namespace salvo::config_internal
