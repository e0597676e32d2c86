// Headers nearly every Salvo translation unit includes, precompiled once per
// build when SALVO_PCH is ON (the test command's builds). Only widely used,
// stable third-party and standard headers belong here, never Salvo's own.
#include <algorithm>
#include <array>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"
