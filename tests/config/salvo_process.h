// SalvoProcess: runs the built `salvo` binary (SALVO_BINARY) as a child with
// stdout and stderr on one pipe, so a test can wait for a log line, send a
// signal and check the exit code. Every wait is bounded; the destructor kills
// and reaps a child that is still running.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace salvo::testing {

class SalvoProcess {
 public:
  // `args` follow the binary's name; `cwd` empty keeps the test's.
  explicit SalvoProcess(const std::vector<std::string>& args, const std::string& cwd = "") {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      int null_fd = open("/dev/null", O_RDONLY);
      dup2(null_fd, 0);
      dup2(fds[1], 1);
      dup2(fds[1], 2);
      if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(SALVO_BINARY));
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(SALVO_BINARY, argv.data());
      _exit(127);
    }
    close(fds[1]);
    out_ = fds[0];
  }
  ~SalvoProcess() {
    if (pid_ > 0 && !exit_code_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
  }
  SalvoProcess(const SalvoProcess&) = delete;
  SalvoProcess& operator=(const SalvoProcess&) = delete;

  bool started() const { return pid_ > 0; }
  const std::string& output() const { return output_; }
  void Signal(int sig) {
    if (pid_ > 0 && !exit_code_) kill(pid_, sig);
  }

  // True once the output (from `from` on) contains `needle`; false if the
  // pipe closes or `timeout` passes first.
  bool WaitForOutput(std::string_view needle, std::chrono::milliseconds timeout, size_t from = 0) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (output_.find(needle, from) != std::string::npos) return true;
      if (!ReadSome(deadline)) return output_.find(needle, from) != std::string::npos;
    }
  }

  // The exit code (128 + signal if killed by one), or nullopt if the child
  // is still running after `timeout`.
  std::optional<int> WaitForExit(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!exit_code_) {
      int status = 0;
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      auto slice =
          std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(20));
      if (!ReadSome(slice)) usleep(5000);  // pipe closed or quiet: poll waitpid again
    }
    while (ReadSome(std::chrono::steady_clock::now())) {
    }
    return exit_code_;
  }

 private:
  // Reads what is available until `deadline`; false on EOF or timeout.
  bool ReadSome(std::chrono::steady_clock::time_point deadline) {
    if (out_ < 0) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{out_, POLLIN, 0};
    if (poll(&p, 1, std::max<int>(0, static_cast<int>(left.count()))) <= 0) return false;
    char buf[4096];
    ssize_t n = read(out_, buf, sizeof buf);
    if (n <= 0) {
      close(out_);
      out_ = -1;
      return false;
    }
    output_.append(buf, static_cast<size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  std::string output_;
  std::optional<int> exit_code_;
};

}  // namespace salvo::testing
