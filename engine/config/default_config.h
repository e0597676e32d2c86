// The embedded default config: what `salvo serve` runs on without --config
// and what `salvo default-config` prints as a starting point. A loopback-only
// quick start: every listener binds 127.0.0.1 on a high port, data lives in
// ./var/salvo. Tests hold it to parsing cleanly and to agreeing with the
// built-in defaults of config.h.
#pragma once

#include <string_view>

namespace salvo {

extern const std::string_view kDefaultConfigToml;

}  // namespace salvo
