// [[source_pool]], [delivery] with [[delivery.destination]] rules, and
// [[route]]: how Salvo shapes and routes outbound mail.
#include <algorithm>
#include <cctype>
#include <charconv>

#include "engine/base/strings.h"
#include "engine/config/config_sections.h"
#include "engine/config/domain_pattern.h"

namespace salvo::config_internal {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

std::string LowerDomain(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

absl::StatusOr<std::string> HostName(std::string_view text) {
  if (absl::Status s = CheckDomainName(text); !s.ok()) return s;
  return LowerDomain(text);
}

absl::StatusOr<SocketAddress> SourceIp(std::string_view text) {
  auto a = SocketAddress::Parse(text, 0);
  if (!a.ok()) return a.status();
  if (a->port() != 0) {
    return absl::InvalidArgumentError(
        fmt::format("source address \"{}\" must be a bare IP address, without a port", text));
  }
  return a;
}

void ReadSource(TableReader& t, const std::string& default_ehlo, SourceAddress* s) {
  if (!t.Has("address")) {
    t.Error(t.where(), t.PathOf("address"), "missing required key (an IP address of this host)");
  }
  t.Parsed("address", SourceIp, &s->address);
  s->ehlo = default_ehlo;
  t.Parsed("ehlo", HostName, &s->ehlo);
  t.Int("weight", 1, 1000, &s->weight);
  t.Finish();
}

void ReadPool(TableReader& t, const std::string& default_ehlo, SourcePool* pool) {
  if (!t.Has("name")) t.Error(t.where(), t.PathOf("name"), "missing required key");
  if (t.String("name", &pool->name) && pool->name.empty()) t.Error("name", "must not be empty");
  std::vector<TableReader> sources = t.ArrayOfTables("source");
  if (sources.empty() && !t.Has("source")) {
    t.Error(t.where(), t.PathOf("source"),
            "a source pool needs at least one [[source_pool.source]] with an address");
  }
  for (TableReader& source : sources) {
    pool->sources.emplace_back();
    ReadSource(source, default_ehlo, &pool->sources.back());
  }
  t.Finish();
}

// Reads the policy keys of [delivery] or of one destination over *policy.
void ReadPolicy(TableReader& t, const std::vector<SourcePool>& pools, DeliveryPolicy* policy) {
  t.Int("max_connections", 1, 100000, &policy->max_connections);
  t.Int("max_messages_per_connection", 1, 1000000, &policy->max_messages_per_connection);
  t.Int("max_recipients_per_transaction", 1, 100000, &policy->max_recipients_per_transaction);
  t.OptionalRate("message_rate", &policy->message_rate);
  t.OptionalRate("connection_rate", &policy->connection_rate);
  t.Duration("connect_timeout", seconds(1), minutes(10), &policy->connect_timeout);
  t.Duration("greeting_timeout", seconds(1), hours(1), &policy->greeting_timeout);
  t.Duration("command_timeout", seconds(1), hours(1), &policy->command_timeout);
  t.Duration("data_timeout", seconds(1), hours(1), &policy->data_timeout);
  t.Duration("data_block_timeout", seconds(1), hours(1), &policy->data_block_timeout);
  t.Duration("data_done_timeout", seconds(1), hours(1), &policy->data_done_timeout);
  t.Duration("idle_timeout", seconds(0), hours(1), &policy->idle_timeout);
  t.Bool("pipeline_messages", &policy->pipeline_messages);
  t.Enum("tls",
         {{"off", TlsPolicy::kOff},
          {"opportunistic", TlsPolicy::kOpportunistic},
          {"required", TlsPolicy::kRequired}},
         &policy->tls);
  if (t.String("source_pool", &policy->source_pool) && !policy->source_pool.empty()) {
    bool known = std::any_of(pools.begin(), pools.end(),
                             [&](const SourcePool& p) { return p.name == policy->source_pool; });
    if (!known) {
      t.Error("source_pool",
              fmt::format("no [[source_pool]] is named \"{}\"", policy->source_pool));
    }
  }
}

void ReadDestination(TableReader& t, const std::vector<SourcePool>& pools, DestinationRule* rule) {
  if (!t.Has("pattern")) {
    t.Error(t.where(), t.PathOf("pattern"),
            "missing required key (a domain such as \"example.com\" or \"*.example.com\")");
  }
  t.Parsed("pattern", DomainPattern::Parse, &rule->pattern);
  t.Enum("match", {{"domain", MatchOn::kDomain}, {"mx", MatchOn::kMxHost}}, &rule->match);
  ReadPolicy(t, pools, &rule->policy);
  t.Finish();
}

absl::StatusOr<Route> NextHop(std::string_view text) {
  Route r;
  if (auto ip = SocketAddress::Parse(text, 25); ip.ok()) {
    r.host = ip->HostString();
    r.port = ip->port();
  } else {
    size_t colon = text.rfind(':');
    std::string_view host = text.substr(0, colon);
    if (colon != std::string_view::npos) {
      std::string_view port_text = text.substr(colon + 1);
      int port = 0;
      auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
      if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 ||
          port > 65535) {
        return absl::InvalidArgumentError(fmt::format("bad port in next hop \"{}\"", text));
      }
      r.port = port;
    }
    if (absl::Status s = CheckDomainName(host); !s.ok()) {
      return absl::InvalidArgumentError(fmt::format(
          "bad next hop \"{}\": write \"host:port\", \"192.0.2.1:25\" or \"[2001:db8::1]:25\"",
          text));
    }
    r.host = LowerDomain(host);
  }
  if (r.port == 0)
    return absl::InvalidArgumentError(fmt::format("next hop \"{}\" has port 0", text));
  return r;
}

}  // namespace

void ReadSourcePools(TableReader& root, const std::string& default_ehlo,
                     std::vector<SourcePool>* out) {
  for (TableReader& t : root.ArrayOfTables("source_pool")) {
    SourcePool pool;
    ReadPool(t, default_ehlo, &pool);
    bool duplicate =
        !pool.name.empty() && std::any_of(out->begin(), out->end(),
                                          [&](const SourcePool& p) { return p.name == pool.name; });
    if (duplicate) {
      t.Error("name", fmt::format("two source pools are named \"{}\"", pool.name));
    }
    out->push_back(std::move(pool));
  }
}

void ReadDelivery(TableReader& root, const std::vector<SourcePool>& pools, DeliveryConfig* out) {
  std::optional<TableReader> t = root.Table("delivery");
  if (!t) return;
  t->Bool("hold", &out->hold);
  ReadPolicy(*t, pools, &out->defaults);
  t->Bool("dsn_enabled", &out->dsn.enabled);
  t->Duration("delay_warning", seconds(0), hours(24 * 30), &out->dsn.delay_warning);
  t->String("reporting_mta", &out->dsn.reporting_mta);
  t->Size("max_returned_bytes", 0, 1ull << 30, &out->dsn.max_returned_bytes);
  for (TableReader& d : t->ArrayOfTables("destination")) {
    DestinationRule rule;
    rule.policy = out->defaults;
    ReadDestination(d, pools, &rule);
    for (const DestinationRule& other : out->destinations) {
      if (!rule.pattern.text().empty() && other.pattern == rule.pattern &&
          other.match == rule.match) {
        d.Error("pattern",
                fmt::format("an earlier rule has the same pattern \"{}\"", rule.pattern.text()));
      }
    }
    out->destinations.push_back(std::move(rule));
  }
  t->Finish();
}

void ReadRoutes(TableReader& root, std::vector<Route>* out) {
  for (TableReader& t : root.ArrayOfTables("route")) {
    Route route;
    if (!t.Has("domain")) t.Error(t.where(), t.PathOf("domain"), "missing required key");
    if (!t.Has("next_hop")) t.Error(t.where(), t.PathOf("next_hop"), "missing required key");
    t.Parsed("domain", DomainPattern::Parse, &route.domain);
    Route hop;
    if (t.Parsed("next_hop", NextHop, &hop)) {
      route.host = hop.host;
      route.port = hop.port;
    }
    bool duplicate = !route.domain.text().empty() &&
                     std::any_of(out->begin(), out->end(),
                                 [&](const Route& r) { return r.domain == route.domain; });
    if (duplicate) {
      t.Error("domain", fmt::format("\"{}\" already has a route", route.domain.text()));
    }
    t.Finish();
    out->push_back(std::move(route));
  }
}

}  // namespace salvo::config_internal
