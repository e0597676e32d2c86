// Executor: one thread that runs posted jobs in order. The spool's reads run
// here so that a ring thread never waits on RocksDB.
#pragma once

#include "engine/base/worker_pool.h"

namespace salvo::queue {

// A one-thread WorkerPool: Post() is thread-safe and returns false once
// stopping; Stop() and the destructor run every job already posted, then join.
using Executor = WorkerPool;

}  // namespace salvo::queue
