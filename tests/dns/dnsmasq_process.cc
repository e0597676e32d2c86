#include "tests/dns/dnsmasq_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace salvo::dns::testing {
namespace {

constexpr const char* kDnsmasq = "/usr/sbin/dnsmasq";

// A port free for UDP and TCP right now (dnsmasq needs both).
int PickPort() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    bind(u, reinterpret_cast<sockaddr*>(&addr), len);
    getsockname(u, reinterpret_cast<sockaddr*>(&addr), &len);
    int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool tcp_free = bind(t, reinterpret_cast<sockaddr*>(&addr), len) == 0;
    int port = ntohs(addr.sin_port);
    close(t);
    close(u);
    if (tcp_free) return port;
  }
  return 0;
}

// Sends one query for "ready.probe" (NXDOMAIN under --local) and waits for any answer.
bool Answers(int port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  static const unsigned char kQuery[] = {0x12, 0x34, 0x01, 0x00, 0,   1,   0,   0,   0, 0,
                                         0,    0,    5,    'p',  'r', 'o', 'b', 'e', 4, 't',
                                         'e',  's',  't',  0,    0,   1,   0,   1};
  sendto(fd, kQuery, sizeof(kQuery), 0, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  pollfd p{fd, POLLIN, 0};
  bool ok = poll(&p, 1, 200) == 1;
  close(fd);
  return ok;
}

}  // namespace

std::unique_ptr<DnsmasqProcess> DnsmasqProcess::Start(const std::vector<std::string>& args,
                                                      std::string* error,
                                                      const std::string& conf_file,
                                                      bool log_queries) {
  if (access(kDnsmasq, X_OK) != 0) {
    *error = "dnsmasq not installed (Debian package dnsmasq-base)";
    return nullptr;
  }
  char dir_template[] = "/tmp/salvo-dnsmasq-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    *error = "mkdtemp failed";
    return nullptr;
  }
  std::unique_ptr<DnsmasqProcess> p(new DnsmasqProcess());
  p->dir_ = dir_template;
  p->log_path_ = p->dir_ + "/queries.log";
  for (int attempt = 0; attempt < 5; ++attempt) {
    p->port_ = PickPort();
    std::vector<std::string> argv_s = {
        kDnsmasq,
        "--port=" + std::to_string(p->port_),
        "--listen-address=127.0.0.1",
        "--bind-interfaces",
        "--no-resolv",
        "--no-hosts",
        "--no-daemon",
        "--user=root",
        "--conf-file=" + (conf_file.empty() ? std::string("/dev/null") : conf_file),
        "--local=/test/",
        "--log-facility=" + p->log_path_,
        "--pid-file=" + p->dir_ + "/pid"};
    if (log_queries) argv_s.push_back("--log-queries");
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
      int devnull = open("/dev/null", O_WRONLY);
      dup2(devnull, 1);
      dup2(devnull, 2);
      execv(kDnsmasq, argv.data());
      _exit(127);
    }
    p->pid_ = pid;
    for (int i = 0; i < 50; ++i) {  // up to ~10 s
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        p->pid_ = -1;
        break;  // exited: port taken or bad option; try again
      }
      if (Answers(p->port_)) return p;
    }
    if (p->pid_ > 0) {
      kill(p->pid_, SIGKILL);
      waitpid(p->pid_, nullptr, 0);
      p->pid_ = -1;
    }
  }
  *error = "dnsmasq did not start (see its options)";
  return nullptr;
}

DnsmasqProcess::~DnsmasqProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

int DnsmasqProcess::CountQueries(std::string_view type, std::string_view name) const {
  std::string needle = "query[" + std::string(type) + "] " + std::string(name) + " from ";
  std::ifstream in(log_path_);
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) ++n;
  }
  return n;
}

int DnsmasqProcess::TotalQueries() const {
  std::ifstream in(log_path_);
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find(": query[") != std::string::npos) ++n;
  }
  return n;
}

}  // namespace salvo::dns::testing
