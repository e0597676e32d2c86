// Names the calling thread (as `top -H`, `perf --sort tid` and gdb show it).
// Linux keeps 15 bytes; longer names are cut, never refused.
#pragma once

#include <string_view>

namespace salvo {

void NameCurrentThread(std::string_view name);

}  // namespace salvo
