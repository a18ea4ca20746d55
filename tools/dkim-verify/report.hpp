#pragma once
// How dkim-verify prints its results: a line per signature for people, JSON lines for
// scripts, or an RFC 8601 Authentication-Results header field.
#include <string>
#include <vector>

#include "relay/dkim_verify.hpp"

namespace relay::dkim {

// "pass d=example.com s=sel a=rsa-sha256 bits=2048" (+ " reason=...") per signature, or
// "none" when there is none; prefixed with "FILE: " when file is not empty.
std::string text_report(const std::string& file, const std::vector<SignatureResult>& results);
// One JSON object per signature (result "none" when there is none).
std::string json_report(const std::string& file, const std::vector<SignatureResult>& results);
// "Authentication-Results: AUTHSERV-ID;\n\tdkim=pass header.d=... ;\n..." ending with a newline.
std::string auth_results_field(const std::string& authserv_id, const std::vector<SignatureResult>& results);

}  // namespace relay::dkim
