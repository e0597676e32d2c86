#include "tests/tls/peer_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "engine/loop/ops.h"
#include "engine/tls/self_signed.h"
#include "gtest/gtest.h"

extern char** environ;

namespace salvo::testing {

namespace {
Task<void> RunThenSignal(Task<void> task, std::shared_ptr<BackgroundTask::State> state) {
  co_await std::move(task);
  state->done = true;
  if (state->waiter) std::exchange(state->waiter, {}).resume();
}
}  // namespace

BackgroundTask::BackgroundTask(Task<void> task) {
  Ring::Current()->gate().Spawn(RunThenSignal(std::move(task), state_));
}

absl::StatusOr<std::unique_ptr<PeerProcess>> PeerProcess::Start(std::vector<std::string> argv) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return absl::InternalError("pipe");
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    return absl::InternalError("pipe");
  }
  std::unique_ptr<PeerProcess> p(new PeerProcess());
  p->stdin_.Reset(in[1]);
  p->stdout_.Reset(out[0]);
  UniqueFd child_in(in[0]), child_out(out[1]);
  ::fcntl(p->stdout_.get(), F_SETFL, O_NONBLOCK);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, child_in.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, child_out.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, child_out.get(), 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  int rc = ::posix_spawnp(&p->pid_, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    p->pid_ = -1;
    return absl::InternalError("posix_spawn " + argv[0] + ": " + std::strerror(rc));
  }
  return p;
}

PeerProcess::~PeerProcess() { Kill(); }

void PeerProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGKILL);  // the whole process group
  int status;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

bool PeerProcess::WriteStdin(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(stdin_.get(), bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(n);
  }
  return true;
}

Task<absl::Status> PeerProcess::WaitFor(std::string needle, Deadline deadline) {
  for (;;) {
    size_t at = output_.find(needle, matched_);
    if (at != std::string::npos) {
      matched_ = at + needle.size();
      co_return absl::OkStatus();
    }
    IoResult r = co_await PollOnce(stdout_.get(), POLLIN, deadline);
    if (r.res == -ETIME) {
      co_return absl::DeadlineExceededError("waiting for '" + needle + "'; output:\n" + output_);
    }
    char buf[4096];
    ssize_t n = ::read(stdout_.get(), buf, sizeof buf);
    if (n == 0) co_return absl::NotFoundError("process ended before '" + needle + "':\n" + output_);
    if (n > 0) output_.append(buf, n);
  }
}

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/salvo-tls-XXXXXX";
  if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  if (DIR* d = ::opendir(path_.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") ::unlink(File(name).c_str());
    }
    ::closedir(d);
  }
  ::rmdir(path_.c_str());
}

std::unique_ptr<TestCerts> MakeTestCerts() {
  auto certs = std::make_unique<TestCerts>();
  certs->cert = certs->dir.File("localhost.pem");
  certs->key = certs->dir.File("localhost.key");
  certs->other_cert = certs->dir.File("other.pem");
  certs->other_key = certs->dir.File("other.key");
  absl::Status s = GenerateSelfSignedCertificate(certs->cert, certs->key, "localhost", 2);
  EXPECT_TRUE(s.ok()) << s;
  s = GenerateSelfSignedCertificate(certs->other_cert, certs->other_key, "mx.other.test", 2);
  EXPECT_TRUE(s.ok()) << s;
  return certs;
}

Task<std::pair<Socket, Socket>> ConnectedPair() {
  auto listener = Listener::Bind(*SocketAddress::Parse("127.0.0.1:0"));
  EXPECT_TRUE(listener.ok()) << listener.status();
  auto client = co_await Connect(listener->address(), std::nullopt, After(std::chrono::seconds(5)));
  EXPECT_TRUE(client.ok()) << client.status();
  auto server = co_await listener->Accept(After(std::chrono::seconds(5)));
  EXPECT_TRUE(server.ok()) << server.status();
  co_await CloseListener(*listener);
  co_return std::make_pair(std::move(*server), std::move(*client));
}

Task<void> CloseListener(Listener& listener) {
  listener.Close();
  co_await SleepFor(std::chrono::milliseconds(1));
}

void ResetConnection(Socket& socket) {
  linger l{.l_onoff = 1, .l_linger = 0};
  ::setsockopt(socket.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  socket.Close();
}

}  // namespace salvo::testing
