// A table-properties collector that marks a RocksDB table file for
// compaction when it is mostly tombstones: `trigger` deletions within any
// window of `window` consecutive keys, or a deletion ratio >= `ratio` over
// the whole file.
//
// Why not RocksDB's CompactOnDeletionCollector alone: it counts only Delete
// entries (kEntryDelete), and the spool removes recipients with SingleDelete
// (a recipient key is written once, so its tombstone and its value cancel in
// any compaction, or already at flush). A table of recipient SingleDeletes
// would never be marked. This one counts both kinds. (spool internal)
#pragma once

#include <rocksdb/table_properties.h>

#include <cstddef>
#include <memory>

namespace salvo::queue {

std::shared_ptr<rocksdb::TablePropertiesCollectorFactory> NewDeletionCompactionCollectorFactory(
    size_t window, size_t trigger, double ratio);

}  // namespace salvo::queue
