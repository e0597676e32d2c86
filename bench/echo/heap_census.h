// Heap census for echo_load: replaces the global operator new/delete of the
// echo_load binary with ones that, once enabled, count live allocations by
// their usable size, so the server can say which objects an idle connection
// costs (coroutine frames, buffers) rather than only a total RSS figure.
// Disabled, the replacements are a plain malloc/free.
#pragma once

#include <string>

namespace salvo::bench {

// Starts counting; call before any thread starts.
void EnableHeapCensus();
bool HeapCensusEnabled();

// The change in live allocations since the previous call (or since
// EnableHeapCensus), largest contributions first, one line per size.
std::string HeapCensusDelta(int max_lines = 12);

}  // namespace salvo::bench
