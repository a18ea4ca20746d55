#include "relay/retry_schedule.hpp"

#include <algorithm>
#include <string>

#include "relay/headers.hpp"

namespace relay {
namespace {

bool mentions_any(std::string_view text, std::initializer_list<std::string_view> words) {
  return std::any_of(words.begin(), words.end(), [&](std::string_view w) { return text.find(w) != std::string_view::npos; });
}

// min * 2^(n-1), at most max: the plain exponential schedule for the n-th retry.
int64_t exponential(int attempts, const RetryPolicy& policy) {
  int64_t delay = policy.min_backoff;
  for (int i = 1; i < attempts && delay < policy.max_backoff; ++i) delay *= 2;
  return std::min(delay, policy.max_backoff);
}

// A fraction in [0, 1) drawn from the id and the attempt count (FNV-1a).
double jitter_fraction(const Envelope& envelope) {
  uint64_t hash = 14695981039346656037ull;
  auto mix = [&](std::string_view bytes) {
    for (unsigned char c : bytes) {
      hash ^= c;
      hash *= 1099511628211ull;
    }
  };
  mix(envelope.id);
  mix(std::to_string(envelope.attempts));
  // FNV leaves the high bits of similar short strings alike: a splitmix64 finish spreads them.
  hash ^= hash >> 30;
  hash *= 0xbf58476d1ce4e5b9ull;
  hash ^= hash >> 27;
  hash *= 0x94d049bb133111ebull;
  hash ^= hash >> 31;
  return static_cast<double>(hash >> 11) / static_cast<double>(uint64_t{1} << 53);
}

}  // namespace

std::string_view to_string(DeferralKind kind) {
  switch (kind) {
    case DeferralKind::kGreylist: return "greylist";
    case DeferralKind::kRate: return "rate";
    case DeferralKind::kDns: return "dns";
    case DeferralKind::kConnect: return "connect";
    case DeferralKind::kOther: return "other";
  }
  return "other";
}

DeferralKind classify_deferral(const Envelope& envelope) {
  const std::string& reason = envelope.defer_reason;
  if (reason == "greylist") return DeferralKind::kGreylist;
  if (reason == "rate") return DeferralKind::kRate;
  if (reason == "dns") return DeferralKind::kDns;
  if (reason == "connect" || reason == "lost") return DeferralKind::kConnect;
  // TLS and authentication trouble is not fixed by waiting less or more: normal schedule.
  bool security = reason == "tls" || reason == "auth";
  for (const Recipient& r : envelope.recipients) {
    if (r.state != RecipientState::kDeferred) continue;
    std::string text = to_lower(r.response);
    if (mentions_any(text, {"greylist", "graylist", "grey-list", "gray-list", "greylisted"})) return DeferralKind::kGreylist;
    if (mentions_any(text, {"rate limit", "rate-limit", "ratelimit", "too many", "throttl", "exceeded", "slow down"}))
      return DeferralKind::kRate;
    if (!security && r.status.starts_with("4.7.") && r.status != "4.7.4" && r.status != "4.7.5")
      return DeferralKind::kGreylist;
  }
  return DeferralKind::kOther;
}

std::optional<int64_t> named_retry_delay(std::string_view reply) {
  // A keyword, then within 24 other characters a number of at most six digits and a unit:
  // "try again in 5 minutes", "retry after 300s", "greylisted for 60 seconds".
  static constexpr std::string_view kKeywords[] = {"again", "retry", "try", "wait", "greylisted", "graylisted", "deferred"};
  std::string text = to_lower(reply.substr(0, 1024));
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  auto is_alpha = [](char c) { return c >= 'a' && c <= 'z'; };
  // The first keyword in the reply that is followed by a time wins.
  size_t best_at = std::string::npos;
  std::optional<int64_t> best;
  for (std::string_view keyword : kKeywords) {
    for (size_t at = text.find(keyword); at != std::string::npos && at < best_at; at = text.find(keyword, at + 1)) {
      size_t pos = at + keyword.size();
      size_t limit = std::min(text.size(), pos + 24);
      while (pos < limit && !is_digit(text[pos])) ++pos;
      size_t digits = pos;
      while (pos < text.size() && is_digit(text[pos])) ++pos;
      if (pos == digits || pos - digits > 6) continue;
      int64_t value = std::stoll(text.substr(digits, pos - digits));
      while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
      size_t word = pos;
      while (pos < text.size() && is_alpha(text[pos])) ++pos;
      std::string_view unit = std::string_view(text).substr(word, pos - word);
      int64_t scale = 0;
      if (unit == "s" || unit == "sec" || unit == "secs" || unit == "second" || unit == "seconds") scale = 1;
      else if (unit == "m" || unit == "min" || unit == "mins" || unit == "minute" || unit == "minutes") scale = 60;
      else if (unit == "h" || unit == "hr" || unit == "hrs" || unit == "hour" || unit == "hours") scale = 3600;
      if (scale == 0) continue;
      int64_t seconds = value * scale;
      best_at = at;
      best = seconds > 0 && seconds <= kMaxNamedRetry ? std::optional<int64_t>(seconds) : std::nullopt;
      break;
    }
  }
  return best;
}

int64_t retry_delay(const Envelope& envelope, const RetryPolicy& policy) {
  double u = jitter_fraction(envelope);
  // A named wait is honoured even above max_backoff: trying sooner would only be refused.
  std::optional<int64_t> named;
  for (const Recipient& r : envelope.recipients)
    if (r.state == RecipientState::kDeferred)
      if (auto d = named_retry_delay(r.response); d && (!named || *d > *named)) named = d;
  if (named) {
    int64_t wait = std::max(*named, policy.min_backoff);
    return wait + static_cast<int64_t>(static_cast<double>(wait) / 10 * u);
  }

  int n = std::max(envelope.attempts, 1);
  int64_t delay = exponential(n, policy);
  switch (classify_deferral(envelope)) {
    case DeferralKind::kGreylist:
      // Greylisting lets the retry through after a few minutes: backing off only adds delay.
      delay = n <= 3 ? policy.min_backoff : exponential(n - 2, policy);
      break;
    case DeferralKind::kRate:
      // A rate limit needs its window to pass: one step further along the schedule.
      delay = exponential(n + 1, policy);
      break;
    case DeferralKind::kDns:
      // Resolver trouble clears without the remote side doing anything: never the longest wait.
      delay = std::min(delay, std::max(policy.min_backoff, policy.max_backoff / 2));
      break;
    case DeferralKind::kConnect:
    case DeferralKind::kOther:
      break;
  }
  // Jitter within [0.8d, 1.2d] intersected with [min, max]: spread out, never out of bounds.
  int64_t low = std::max(policy.min_backoff, delay * 4 / 5);
  int64_t high = std::min(policy.max_backoff, delay * 6 / 5);
  if (high < low) high = low;
  return low + static_cast<int64_t>(static_cast<double>(high - low) * u);
}

int64_t next_attempt_time(const Envelope& envelope, int64_t now, const RetryPolicy& policy) {
  int64_t base = envelope.last_attempt > 0 ? envelope.last_attempt : now;
  return base + retry_delay(envelope, policy);
}

}  // namespace relay
