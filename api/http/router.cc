#include "api/http/router.h"

#include <algorithm>

#include "engine/base/strings.h"
#include "fmt/format.h"

namespace salvo {
namespace {

bool IsParam(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  path.remove_prefix(1);  // the leading '/'
  for (;;) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

// Literal segments before parameters: the lexicographically larger mask of
// "segment i is a literal" is the more specific route.
std::vector<bool> LiteralMask(const HttpRoute& r) {
  std::vector<bool> mask;
  for (const std::string& s : r.segments) mask.push_back(!IsParam(s));
  return mask;
}

constexpr HttpMethod kAllowOrder[] = {HttpMethod::kGet,    HttpMethod::kHead,  HttpMethod::kPost,
                                      HttpMethod::kPut,    HttpMethod::kPatch, HttpMethod::kDelete,
                                      HttpMethod::kOptions};

}  // namespace

absl::Status HttpRouter::Add(HttpMethod method, std::string_view pattern, HttpHandler handler,
                             RouteOptions options) {
  if (!pattern.starts_with('/') || method == HttpMethod::kOther || !handler) {
    return absl::InvalidArgumentError(ToAbsl(
        fmt::format("route \"{}\": a pattern starts with '/' and needs a handler", pattern)));
  }
  HttpRoute route{method, std::string(pattern), {}, std::move(handler), options};
  for (std::string_view s : Split(pattern)) {
    bool braces = s.find_first_of("{}") != std::string_view::npos;
    if ((braces && !IsParam(s)) ||
        (IsParam(s) && s.substr(1, s.size() - 2).find_first_of("{}/") != std::string_view::npos)) {
      return absl::InvalidArgumentError(
          ToAbsl(fmt::format("route \"{}\": bad segment \"{}\"", pattern, s)));
    }
    route.segments.emplace_back(s);
  }
  for (const HttpRoute& r : routes_) {
    if (r.method == method && r.segments.size() == route.segments.size()) {
      bool same = true;
      for (size_t i = 0; i < r.segments.size() && same; ++i) {
        const std::string& a = r.segments[i];
        const std::string& b = route.segments[i];
        same = (IsParam(a) && IsParam(b)) || a == b;
      }
      if (same) {
        return absl::AlreadyExistsError(ToAbsl(fmt::format(
            "route {} \"{}\" clashes with \"{}\"", HttpMethodName(method), pattern, r.pattern)));
      }
    }
  }
  routes_.push_back(std::move(route));
  return absl::OkStatus();
}

HttpRouter::Match HttpRouter::Find(HttpMethod method, std::string_view path) const {
  Match m;
  if (!path.starts_with('/')) {
    m.kind = Match::kBadPath;
    return m;
  }
  std::vector<std::string_view> segments = Split(path);
  std::vector<std::optional<std::string>> decoded(segments.size());
  bool allowed[std::size(kAllowOrder)] = {};
  const HttpRoute* best = nullptr;
  const HttpRoute* best_get = nullptr;  // for HEAD without a HEAD route
  for (const HttpRoute& r : routes_) {
    if (r.segments.size() != segments.size()) continue;
    bool matches = true;
    for (size_t i = 0; i < segments.size() && matches; ++i) {
      if (IsParam(r.segments[i])) {
        if (!decoded[i]) decoded[i] = PercentDecode(segments[i], false);
        matches = decoded[i].has_value() && !decoded[i]->empty();
      } else {
        matches = r.segments[i] == segments[i];
      }
    }
    if (!matches) continue;
    for (size_t k = 0; k < std::size(kAllowOrder); ++k) {
      if (kAllowOrder[k] == r.method) allowed[k] = true;
    }
    const HttpRoute** slot = r.method == method ? &best
                             : (method == HttpMethod::kHead && r.method == HttpMethod::kGet)
                                 ? &best_get
                                 : nullptr;
    if (slot != nullptr && (*slot == nullptr || LiteralMask(r) > LiteralMask(**slot))) *slot = &r;
  }
  if (best == nullptr) best = best_get;
  if (best != nullptr) {
    m.kind = Match::kFound;
    m.route = best;
    for (size_t i = 0; i < segments.size(); ++i) {
      const std::string& s = best->segments[i];
      if (IsParam(s)) m.params.emplace_back(s.substr(1, s.size() - 2), *decoded[i]);
    }
    return m;
  }
  if (allowed[0]) allowed[1] = true;  // HEAD comes with GET
  std::vector<std::string_view> names;
  for (size_t k = 0; k < std::size(kAllowOrder); ++k) {
    if (allowed[k]) names.push_back(HttpMethodName(kAllowOrder[k]));
  }
  if (names.empty()) return m;  // kNotFound
  m.kind = Match::kMethodNotAllowed;
  m.allow = fmt::format("{}", fmt::join(names, ", "));
  return m;
}

}  // namespace salvo
