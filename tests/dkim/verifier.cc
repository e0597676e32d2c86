#include "tests/dkim/verifier.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace salvo::dkim::testing {
namespace {

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
  ASSERT_TRUE(out.good()) << path;
}

}  // namespace

std::vector<std::vector<bool>> VerifyAll(const std::vector<std::string>& messages,
                                         const TxtRecords& records) {
  std::vector<std::vector<bool>> results;
  char tmpl[] = "/tmp/salvo-dkim-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    return results;
  }
  std::string dir = tmpl;
  nlohmann::json json = nlohmann::json::object();
  for (const auto& [name, txt] : records) json[name] = txt;
  WriteFile(dir + "/records.json", json.dump());
  std::string cmd = "/usr/bin/python3 " SALVO_DKIM_VERIFY_PY " " + dir + "/records.json";
  for (size_t i = 0; i < messages.size(); ++i) {
    std::string path = dir + "/m" + std::to_string(i) + ".eml";
    WriteFile(path, messages[i]);
    cmd += " " + path;
  }
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string output;
  if (pipe != nullptr) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) output.append(buf, n);
    int rc = pclose(pipe);
    EXPECT_EQ(rc, 0) << "verify.py failed: " << output;
  } else {
    ADD_FAILURE() << "popen failed";
  }
  std::filesystem::remove_all(dir);
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::vector<bool> r;
    std::string w;
    while (words >> w) {
      if (w != "none") r.push_back(w == "ok");
    }
    results.push_back(std::move(r));
  }
  EXPECT_EQ(results.size(), messages.size()) << output;
  results.resize(messages.size());
  return results;
}

std::vector<bool> Verify(const std::string& message, const TxtRecords& records) {
  return VerifyAll({message}, records)[0];
}

}  // namespace salvo::dkim::testing
