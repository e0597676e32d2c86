// Test helpers for engine/tls: real peer processes (openssl s_server /
// s_client, Python's aiosmtpd) on loopback, temporary certificates and
// loopback socket pairs.
//
// PeerProcess is RAII: the process (in its own process group) is killed
// with SIGKILL and reaped when the object goes away, so no test leaves a
// peer running. Its stdin is a pipe the test writes to; stdout and stderr
// are one pipe the test reads on the Ring (PollOnce), always with a deadline.
#pragma once

#include <sys/types.h>

#include <coroutine>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/base/deadline.h"
#include "engine/base/status_macros.h"
#include "engine/base/unique_fd.h"
#include "engine/loop/task.h"
#include "engine/net/socket.h"

// gtest's ASSERT_* return, which a coroutine cannot: these co_return.
#define CO_ASSERT_OK(expr)                                                          \
  do {                                                                              \
    const auto& _co_st = (expr);                                                    \
    if (!_co_st.ok()) {                                                             \
      ADD_FAILURE() << #expr << " failed: " << ::salvo::internal::AsStatus(_co_st); \
      co_return;                                                                    \
    }                                                                               \
  } while (0)
#define CO_ASSERT_TRUE(cond)                  \
  do {                                        \
    if (!(cond)) {                            \
      ADD_FAILURE() << "expected: " << #cond; \
      co_return;                              \
    }                                         \
  } while (0)

namespace salvo::testing {

// Runs a task concurrently on the current Ring (through its gate); Join()
// waits for it to end. Join before anything the task refers to goes away.
class BackgroundTask {
 public:
  explicit BackgroundTask(Task<void> task);
  BackgroundTask(const BackgroundTask&) = delete;
  BackgroundTask& operator=(const BackgroundTask&) = delete;

  struct State {
    bool done = false;
    std::coroutine_handle<> waiter;
  };
  struct JoinAwaiter {
    std::shared_ptr<State> state;
    bool await_ready() const noexcept { return state->done; }
    void await_suspend(std::coroutine_handle<> h) { state->waiter = h; }
    void await_resume() const noexcept {}
  };
  JoinAwaiter Join() { return JoinAwaiter{state_}; }

 private:
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

class PeerProcess {
 public:
  static absl::StatusOr<std::unique_ptr<PeerProcess>> Start(std::vector<std::string> argv);
  ~PeerProcess();
  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;

  // Blocking write to the process's stdin (small amounts only).
  bool WriteStdin(std::string_view bytes);
  void CloseStdin() { stdin_.Reset(); }
  // Reads the process's output on the ring until `needle` appears after what
  // an earlier WaitFor matched. Fails with DeadlineExceeded or, if the
  // process ends first, NotFound; both carry the output so far.
  Task<absl::Status> WaitFor(std::string needle, Deadline deadline);
  const std::string& output() const { return output_; }
  void Kill();

 private:
  PeerProcess() = default;

  pid_t pid_ = -1;
  UniqueFd stdin_;
  UniqueFd stdout_;
  std::string output_;
  size_t matched_ = 0;
};

// A loopback port that was free a moment ago (bind to port 0, then close):
// for peers that must be told their port up front.
int FreeLoopbackPort();

// A directory under $TMPDIR removed (with its files) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string File(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// Certificates for one test suite: "localhost" (SAN localhost, 127.0.0.1,
// ::1) and an unrelated "mx.other.test", each self-signed by
// GenerateSelfSignedCertificate; each file doubles as its own CA file.
struct TestCerts {
  TempDir dir;
  std::string cert, key;              // localhost
  std::string other_cert, other_key;  // mx.other.test
};
std::unique_ptr<TestCerts> MakeTestCerts();

// A connected loopback TCP pair {server side, client side} through a real
// Listener.
Task<std::pair<Socket, Socket>> ConnectedPair();

// Closes `listener` and lets the ring reap the cancelled accept, whose last
// completion frees the listener's state (a Ring that stops with it still
// pending leaks that state: see the report on engine/net).
Task<void> CloseListener(Listener& listener);

// Sets SO_LINGER {on, 0} and closes: the peer sees a reset, not a FIN.
void ResetConnection(Socket& socket);

}  // namespace salvo::testing
