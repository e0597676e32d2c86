// `salvo dkim keygen --domain D --selector S [--type rsa|ed25519] [--bits N]
// --out DIR`: generates a DKIM key, writes its private half as PEM to
// DIR/<domain>.<selector>.pem (mode 0600, never overwriting), and prints the
// DNS TXT record to publish on stdout (the [[dkim]] config entry on stderr).
#pragma once

#include <cstdio>
#include <string_view>
#include <vector>

namespace salvo {

// `args[0]` is "dkim". Returns 0, 1 (runtime failure) or 2 (usage error).
int RunDkim(const std::vector<std::string_view>& args, std::FILE* out = stdout,
            std::FILE* err = stderr);

}  // namespace salvo
