#pragma once
// What mx-deliver writes about each recipient: the one-message report on stdout (format
// version 1 of mx-deliver(8), section REPORT FORMAT) and the Postfix-like log line.
#include <cstdint>
#include <string>

#include "deliverer.hpp"

namespace mxdeliver {

inline constexpr int kReportVersion = 1;

// "version=1 status=sent rcpt=b@example.test dsn=2.0.0 remote=... tls=... reply=250 2.0.0 Ok";
// in spool mode the queue id comes first ("version=1 id=... status=...").
std::string report_line(const std::string& recipient, const RecipientOutcome& outcome, const std::string& id = "");
// The same facts as one JSON object.
std::string report_json(const std::string& recipient, const RecipientOutcome& outcome, const std::string& id = "");
// "ID to=<b@example.test> relay=mx[127.0.0.2]:25 delay=0.12 tls=none dsn=2.0.0 status=sent (250 Ok)"
std::string log_line(const std::string& id, const std::string& recipient, const RecipientOutcome& outcome,
                     double delay_seconds);

}  // namespace mxdeliver
