// Test helper: runs a coroutine against a fresh Resolver on a fresh Ring, and
// closes the resolver afterwards (so no ring operation is left behind).
#pragma once

#include <gtest/gtest.h>

#include <utility>

#include "dns/resolver.h"
#include "tests/engine/ring_fixture.h"

namespace salvo::dns::testing {

template <typename Body>  // Body: Task<void>(Resolver&)
void RunWithResolver(ResolverOptions options, Body body) {
  salvo::testing::RunOnRing([](ResolverOptions o, Body b) -> Task<void> {
    auto resolver = Resolver::Create(o);
    EXPECT_TRUE(resolver.ok()) << resolver.status();
    if (!resolver.ok()) co_return;
    co_await b(**resolver);
    co_await (*resolver)->Close();
  }(std::move(options), std::move(body)));
}

inline ResolverOptions OptionsFor(const std::string& server) {
  ResolverOptions o;
  o.servers = {server};
  o.timeout = std::chrono::milliseconds(500);
  o.tries = 2;
  return o;
}

}  // namespace salvo::dns::testing
