#include "engine/delivery/route_table.h"

#include "dns/ip_address.h"
#include "fmt/format.h"

namespace salvo::delivery {
namespace {

using namespace std::chrono_literals;

// Routes to an IP literal never expire on their own; a reload replaces them.
constexpr Duration kLiteralRouteLifetime = 1h;

Task<absl::StatusOr<std::shared_ptr<const NextHops>>> ResolveRoute(dns::Resolver& resolver,
                                                                   const Route& route,
                                                                   std::string domain) {
  auto hops = std::make_shared<NextHops>();
  hops->domain = std::move(domain);
  hops->port = static_cast<uint16_t>(route.port);
  hops->routed = true;
  hops->site = fmt::format("route:{}:{}", route.host, route.port);
  hops->site_id = dns::SiteId(hops->site);
  dns::MxHost host{.name = route.host};
  if (auto ip = dns::IpAddress::Parse(route.host)) {
    host.addresses.push_back(*ip);
  } else {
    auto addresses = co_await resolver.ResolveHost(route.host);
    if (!addresses.ok()) co_return addresses.status();
    host.addresses = std::move(*addresses);
  }
  hops->expires = After(kLiteralRouteLifetime);
  hops->hosts.push_back(std::move(host));
  co_return std::shared_ptr<const NextHops>(std::move(hops));
}

}  // namespace

Task<absl::StatusOr<std::shared_ptr<const NextHops>>> ResolveNextHops(dns::Resolver& resolver,
                                                                      const Config& config,
                                                                      std::string domain) {
  if (const Route* route = config.FindRoute(domain)) {
    auto routed = co_await ResolveRoute(resolver, *route, std::move(domain));
    co_return routed;
  }
  auto mx = co_await resolver.ResolveMx(domain);
  if (!mx.ok()) co_return mx.status();
  auto hops = std::make_shared<NextHops>();
  hops->domain = std::move(domain);
  hops->hosts = std::move(mx->hosts);
  hops->port = static_cast<uint16_t>(config.dns.mx_port);
  hops->site = std::move(mx->site);
  hops->site_id = mx->site_id;
  hops->expires = mx->expires;
  co_return std::shared_ptr<const NextHops>(std::move(hops));
}

}  // namespace salvo::delivery
