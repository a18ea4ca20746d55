#pragma once
// When a deferred message is tried again: exponential backoff with jitter between a minimum
// and a maximum, from the attempt history in its envelope and the reason it was deferred.
// Shared by mx-deliver (which schedules a message when it defers it) and spool-retry (which
// moves it back to outgoing/ when due and reschedules what was scheduled too early).
// The rules are documented in spool-retry(8), section BACKOFF.
#include <cstdint>
#include <optional>
#include <string_view>

#include "relay/envelope.hpp"

namespace relay {

struct RetryPolicy {
  int64_t min_backoff = 300;   // as Postfix's minimal_backoff_time
  int64_t max_backoff = 4000;  // as Postfix's maximal_backoff_time
};

// Longest wait a reply may name and still be honoured (a day): beyond it, the normal schedule.
inline constexpr int64_t kMaxNamedRetry = 86400;

enum class DeferralKind { kGreylist, kRate, kDns, kConnect, kOther };
std::string_view to_string(DeferralKind kind);

// Why the last attempt deferred: the envelope's defer-reason, refined by the deferred
// recipients' replies (a 4.7.x reply that mentions rates or too many connections is a rate
// limit; any other 4.7.x reply but TLS's, or one that says greylisting, is greylisting).
DeferralKind classify_deferral(const Envelope& envelope);

// A wait named in a reply: "try again in 5 minutes", "retry after 300 seconds",
// "greylisted for 60s". nullopt when the reply names none (or a longer one than kMaxNamedRetry).
std::optional<int64_t> named_retry_delay(std::string_view reply);

// Seconds to wait after the last attempt, jitter included. The jitter is drawn from the id and
// the attempt count, so the same envelope always gets the same answer.
int64_t retry_delay(const Envelope& envelope, const RetryPolicy& policy);

// last_attempt (or now when the envelope has none) plus retry_delay.
int64_t next_attempt_time(const Envelope& envelope, int64_t now, const RetryPolicy& policy);

}  // namespace relay
