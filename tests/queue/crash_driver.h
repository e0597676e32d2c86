// The parent's side of the kill -9 tests: it starts a crash child (a program
// that writes to a spool and prints "READY", then one line per acknowledged
// write, each in one write(2)), reads what it printed with bounded waits, and
// kills and reaps it. Every wait here has a deadline.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace salvo::queue::testing {

using Clock = std::chrono::steady_clock;

struct CrashChild {
  pid_t pid = -1;
  int out = -1;  // its stdout
};

// Runs `program <spool_path>` with its stdout on a pipe.
inline CrashChild SpawnCrashChild(const char* program, const std::string& spool_path) {
  int fds[2];
  EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    execl(program, program, spool_path.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  return CrashChild{pid, fds[0]};
}

// Reads from `fd` into `buf` until `deadline` or EOF; returns false on EOF.
inline bool ReadUntil(int fd, std::string& buf, Clock::time_point deadline) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return true;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char chunk[65536];
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n <= 0) return false;
    buf.append(chunk, n);
  }
}

// Reads into `out` until the child said READY (for at most 20 s); true if
// it did.
inline bool WaitForReady(const CrashChild& child, std::string& out) {
  auto ready_by = Clock::now() + std::chrono::seconds(20);
  while (out.find("READY\n") == std::string::npos && Clock::now() < ready_by) {
    if (!ReadUntil(child.out, out, Clock::now() + std::chrono::milliseconds(20))) break;
  }
  return out.find("READY\n") != std::string::npos;
}

// Kills the child with SIGKILL, reads the rest of its output into `out` (to
// EOF, for at most 10 s), reaps it and returns its wait status. `out` keeps
// only whole lines: each was one write(2), so a cut can only be at the end.
inline int KillAndReap(CrashChild& child, std::string& out) {
  kill(child.pid, SIGKILL);
  ReadUntil(child.out, out, Clock::now() + std::chrono::seconds(10));  // to EOF
  close(child.out);
  child.out = -1;
  int status = 0;
  waitpid(child.pid, &status, 0);
  out.resize(out.rfind('\n') + 1);
  return status;
}

}  // namespace salvo::queue::testing
