// Test helper: runs a coroutine on a fresh Ring in the calling thread.
#pragma once

#include <gtest/gtest.h>

#include "engine/loop/ring.h"

namespace salvo::testing {

inline void RunOnRing(Task<void> main, const RingOptions& options = {}) {
  auto ring = Ring::Create(options);
  ASSERT_TRUE(ring.ok()) << ring.status();
  (*ring)->Run(std::move(main));
}

}  // namespace salvo::testing
