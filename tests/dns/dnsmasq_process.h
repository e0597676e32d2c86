// Test and bench helper: a real dnsmasq serving test records on
// 127.0.0.1:<free high port>, started with the records as command-line
// options (--mx-host, --host-record, --cname, ...) or a conf file, logging
// every query to a file so a test can count what reached the server.
// Everything under .test is answered locally (--local=/test/): unknown
// names get NXDOMAIN. Stopped (SIGTERM, then reaped) on destruction.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace salvo::dns::testing {

class DnsmasqProcess {
 public:
  // `args` are extra dnsmasq options; `conf_file` (may be empty) is read
  // instead of /dev/null. Without `log_queries` (benchmarks) the Count*
  // functions see nothing. Returns null with *error set on failure.
  static std::unique_ptr<DnsmasqProcess> Start(const std::vector<std::string>& args,
                                               std::string* error,
                                               const std::string& conf_file = "",
                                               bool log_queries = true);
  ~DnsmasqProcess();
  DnsmasqProcess(const DnsmasqProcess&) = delete;
  DnsmasqProcess& operator=(const DnsmasqProcess&) = delete;

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Queries logged as "query[<type>] <name> from ...".
  int CountQueries(std::string_view type, std::string_view name) const;
  // All queries logged.
  int TotalQueries() const;

 private:
  DnsmasqProcess() = default;

  pid_t pid_ = -1;
  int port_ = 0;
  std::string dir_;
  std::string log_path_;
};

}  // namespace salvo::dns::testing
