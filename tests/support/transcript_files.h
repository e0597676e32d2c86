// The golden-transcript files shared by the SMTP, POP3 and IMAP transcript
// tests (tests/transcripts/<proto>/<case>.in and .ref): listing the cases,
// reading a file, and the escapes of an .in line (\r \n \t \\ \xHH, and a
// trailing \c for "no CRLF after this line").
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "engine/base/strings.h"

namespace salvo::testing {

inline std::string ReadTranscriptFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The case names (file names without ".in") in `dir`, sorted.
inline std::vector<std::string> ListTranscriptCases(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 3 && n.substr(n.size() - 3) == ".in") out.push_back(n.substr(0, n.size() - 3));
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// What an unknown escape means: a typo in the .in file (kFail), or text to
// keep as written (kKeep: IMAP, whose flags are spelt \Seen, \Deleted...).
enum class UnknownEscape { kFail, kKeep };

// One .in line as bytes; *crlf is false when it ends in \c.
inline std::string UnescapeTranscriptLine(std::string_view line, bool* crlf,
                                          UnknownEscape unknown = UnknownEscape::kFail) {
  std::string out;
  *crlf = true;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] != '\\' || i + 1 >= line.size()) {
      out += line[i];
      continue;
    }
    char e = line[++i];
    if (e == 'r') {
      out += '\r';
    } else if (e == 'n') {
      out += '\n';
    } else if (e == 't') {
      out += '\t';
    } else if (e == '\\') {
      out += '\\';
    } else if (e == 'c' && i + 1 == line.size()) {
      *crlf = false;
    } else if (e == 'x' && i + 2 < line.size()) {
      int v = 0;
      absl::SimpleHexAtoi(ToAbsl(line.substr(i + 1, 2)), &v);
      out += static_cast<char>(v);
      i += 2;
    } else if (unknown == UnknownEscape::kKeep) {
      out += '\\';
      out += e;
    } else {
      ADD_FAILURE() << "bad escape \\" << e << " in " << line;
    }
  }
  return out;
}

}  // namespace salvo::testing
