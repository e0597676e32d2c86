// libFuzzer target: arbitrary bytes as the answer to an MX, A or AAAA
// question, through the parser, the classifier and MX planning. Built with
// clang by tests/dns/fuzz/build.sh (the project itself builds with g++).
#include <cstddef>
#include <cstdint>
#include <random>

#include "dns/mx_set.h"
#include "dns/rrset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace salvo::dns;
  static std::mt19937_64 rng(1);
  std::span<const uint8_t> wire(data, size);
  Rrset mx = InterpretAnswer(wire, "example.com", RrType::kMx, TtlPolicy{});
  auto plan = PlanMxTargets("example.com", mx, 10, rng);
  if (plan.ok() && plan->targets.empty()) __builtin_trap();
  Rrset a = InterpretAnswer(wire, "example.com", RrType::kA, TtlPolicy{});
  if (a.kind == RrsetKind::kData && a.addresses.empty()) __builtin_trap();
  Rrset aaaa = InterpretAnswer(wire, "example.com", RrType::kAaaa, TtlPolicy{});
  if (aaaa.kind == RrsetKind::kData && aaaa.addresses.empty()) __builtin_trap();
  return 0;
}
