// GCRA (the generic cell rate algorithm, as in ATM's traffic policing): a window of limit per
// window seconds is one time per counter, the theoretical arrival time (tat). Each unit moves
// tat forward by the emission interval; a request passes while tat stays within one window of
// now. No per-message history, so a counter is 8 bytes however busy it is.
#include <algorithm>

#include "relay/policy_store.hpp"

namespace relay::policy {
namespace {

// The emission interval, and the capacity measured in it: interval * limit, which is the window
// less the remainder of the division, so exactly limit units fit in an idle window.
struct Interval {
  int64_t step;
  int64_t capacity;
};

Interval interval_of(int64_t limit, int64_t window) {
  int64_t step = std::max<int64_t>(1, window * kNanos / limit);
  return {step, step * limit};
}

}  // namespace

GcraStep gcra_step(int64_t tat, int64_t now, int64_t limit, int64_t window, int64_t cost) {
  GcraStep out;
  if (cost > limit) {
    out.never = true;
    return out;
  }
  auto [step, capacity] = interval_of(limit, window);
  int64_t start = std::max(tat, now);
  int64_t next = start + step * cost;
  if (next - now <= capacity) {
    out.allowed = true;
    out.tat = next;
  } else {
    out.retry_after = next - now - capacity;
  }
  return out;
}

int64_t gcra_used(int64_t tat, int64_t now, int64_t limit, int64_t window) {
  if (tat <= now) return 0;
  int64_t step = interval_of(limit, window).step;
  return std::min(limit, (tat - now + step - 1) / step);
}

}  // namespace relay::policy
