#pragma once
// dmarc-check --message: SPF for the envelope, DKIM for the signatures, DMARC for the From
// domain, then the verdict and an Authentication-Results header field.
#include <cstdint>
#include <string>

#include "policy_report.hpp"
#include "relay/dns_trace.hpp"

namespace relay::dmarc_check {

struct MessageOptions {
  std::string file;  // "-": standard input
  std::string ip, helo, mail_from;
  std::string authserv_id;
  int64_t now = 0;
};

inline constexpr size_t kMaxMessageBytes = 64 << 20;

// Returns the exit code: 0 when a verdict was printed, 75 on temperror.
int check_message(dns::TracingResolver& resolver, const MessageOptions& options, const Output& output);

}  // namespace relay::dmarc_check
