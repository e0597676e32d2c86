// Micro-benchmarks of the POP3 server's I/O-free hot paths: the multi-line
// encoder that dot-stuffs and CRLF-normalises RETR content, and the command
// parser. Figures: docs/benchmarks/pop3.md.
#include <benchmark/benchmark.h>

#include <string>

#include "engine/pop3/command_parser.h"
#include "engine/pop3/multiline.h"

namespace salvo::pop3 {
namespace {

// A bounce-like message: headers, then lines of text, some starting with '.'.
std::string MakeMessage(size_t size, bool bare_lf) {
  std::string m = "From: MAILER-DAEMON@example.net\r\nSubject: Undelivered Mail\r\n\r\n";
  for (int i = 0; m.size() < size; ++i) {
    if (i % 20 == 0) m += '.';
    m += "This is the mail system at host example.net. I'm sorry to have to inform you";
    m += bare_lf ? "\n" : "\r\n";
  }
  return m;
}

void BM_EncodeRetr(benchmark::State& state) {
  const std::string content = MakeMessage(static_cast<size_t>(state.range(0)), state.range(1));
  const size_t chunk = 64 * 1024;
  std::string out;
  for (auto _ : state) {
    MultilineEncoder enc;
    for (size_t pos = 0; pos < content.size(); pos += chunk) {
      out.clear();
      enc.Encode(std::string_view(content).substr(pos, chunk), out);
      benchmark::DoNotOptimize(out.data());
    }
    out.clear();
    enc.Finish(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * content.size()));
}
BENCHMARK(BM_EncodeRetr)->Args({10 << 10, 0})->Args({1 << 20, 0})->Args({1 << 20, 1});

void BM_ParseCommand(benchmark::State& state) {
  const std::string_view lines[] = {
      "RETR 12345", "UIDL", "TOP 3 10", "USER alice", "PASS correct horse battery", "DELE 17"};
  size_t i = 0;
  for (auto _ : state) {
    auto c = ParseCommand(lines[i++ % 6]);
    benchmark::DoNotOptimize(c);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ParseCommand);

}  // namespace
}  // namespace salvo::pop3

BENCHMARK_MAIN();
