#include "auth_throttle.hpp"

namespace smtp_listen {

namespace {
constexpr size_t kPruneAbove = 10000;  // addresses remembered before old entries are dropped
}

bool AuthThrottle::blocked(const std::string& ip, int64_t now) {
  auto found = counts_.find(ip);
  if (found == counts_.end()) return false;
  if (now - found->second.since >= window_) {
    counts_.erase(found);
    return false;
  }
  return found->second.failures >= max_failures_;
}

void AuthThrottle::record_failure(const std::string& ip, int64_t now) {
  if (counts_.size() >= kPruneAbove) forget_old(now);
  Count& count = counts_[ip];
  if (count.failures == 0 || now - count.since >= window_) count = {0, now};
  ++count.failures;
}

void AuthThrottle::forget_old(int64_t now) {
  for (auto it = counts_.begin(); it != counts_.end();) {
    if (now - it->second.since >= window_)
      it = counts_.erase(it);
    else
      ++it;
  }
}

}  // namespace smtp_listen
