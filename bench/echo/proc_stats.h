// What the echo load tool measures about a process from /proc: resident
// memory (VmRSS) and CPU time (utime + stime), plus host-wide kernel figures
// a process's RSS does not show: slab memory, loopback backlog drops, TCP
// retransmits.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace salvo::bench {

// VmRSS of `pid` in bytes, or nullopt if the process is gone.
std::optional<int64_t> ResidentBytes(pid_t pid);

// User + system CPU time of `pid` in seconds (whole process, all threads).
std::optional<double> CpuSeconds(pid_t pid);

// Kernel slab memory in bytes (/proc/meminfo Slab: whole host, so noisy).
std::optional<int64_t> SlabBytes();

// Packets dropped because a CPU's input backlog was full (the second column
// of /proc/net/softnet_stat, summed): on loopback a burst of sends larger
// than net.core.netdev_max_backlog drops segments, which TCP retransmits
// after its minimum RTO (200 ms), so they show as latency spikes.
std::optional<int64_t> BacklogDrops();

// TCP segments retransmitted (RetransSegs in /proc/net/snmp), host-wide.
std::optional<int64_t> TcpRetransmits();

// Raises RLIMIT_NOFILE's soft limit to min(hard limit, `want`); returns the
// soft limit in effect afterwards.
int64_t RaiseFileLimit(int64_t want);

}  // namespace salvo::bench
