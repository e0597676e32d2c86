// SourcePicker: chooses the source address (and its EHLO name) of each new
// egress path from a [[source_pool]], in proportion to the sources' weights.
// Smooth weighted round robin (as nginx does it): deterministic, and with
// weights 3:1 the picks go a a b a a a b a..., never long runs of one source.
// An empty pool stands for "the kernel picks", with the server's host name.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/config/config.h"
#include "engine/net/socket_address.h"

namespace salvo::delivery {

struct Source {
  std::optional<SocketAddress> address;  // nullopt: the kernel picks
  std::string ehlo;
  int weight = 1;
  int index = 0;  // position in the pool
};

class SourcePicker {
 public:
  // `pool` may be null (no pool): one source without an address.
  SourcePicker(const SourcePool* pool, const std::string& default_ehlo);

  const std::vector<Source>& sources() const { return sources_; }
  // The index of the next source to use.
  int Next();

 private:
  std::vector<Source> sources_;
  std::vector<int> current_;
  int total_ = 0;
};

}  // namespace salvo::delivery
