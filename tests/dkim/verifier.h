// Test helper: verifies DKIM signatures with python3-dkim (tests/dkim/
// verify.py), an implementation independent of Salvo's, with the DNS TXT
// records supplied by the test.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace salvo::dkim::testing {

// DNS name ("sel._domainkey.example.com.") -> TXT text.
using TxtRecords = std::map<std::string, std::string>;

// For each message, one result per DKIM-Signature field (top first): true
// when it verifies. Messages are written to files and checked in one run.
std::vector<std::vector<bool>> VerifyAll(const std::vector<std::string>& messages,
                                         const TxtRecords& records);

// One message: its results.
std::vector<bool> Verify(const std::string& message, const TxtRecords& records);

}  // namespace salvo::dkim::testing
