// The section readers of the config loader, one per group of tables; each
// reads its keys from the root table and records errors in the reader's
// ErrorList. Internal to engine/config.
#pragma once

#include "engine/config/config.h"
#include "engine/config/toml_reader.h"

namespace salvo::config_internal {

// [[listener]]
void ReadListeners(TableReader& root, std::vector<ListenerConfig>* out);
// [[source_pool]] (read before [delivery], which refers to the pools);
// `default_ehlo` is used for sources without an ehlo key.
void ReadSourcePools(TableReader& root, const std::string& default_ehlo,
                     std::vector<SourcePool>* out);
// [delivery] and [[delivery.destination]]
void ReadDelivery(TableReader& root, const std::vector<SourcePool>& pools, DeliveryConfig* out);
// [[route]]
void ReadRoutes(TableReader& root, std::vector<Route>* out);
// [api] public_url: "http(s)://host[:port][/path]", without a trailing '/'.
absl::StatusOr<std::string> PublicUrl(std::string_view text);
// [dkim] and [[dkim.key]]
void ReadDkim(TableReader& root, DkimConfig* out);

}  // namespace salvo::config_internal
