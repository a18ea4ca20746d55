#include "plan.hpp"

#include <algorithm>

namespace spoolretry {

Plan plan_for(const relay::Envelope& envelope, int64_t mtime, int64_t now, const Options& options) {
  Plan plan;
  int64_t lifetime = envelope.null_sender() ? options.dsn_max_age : options.max_age;
  plan.lifetime_end = envelope.arrival + lifetime;
  if (now >= plan.lifetime_end) {
    plan.expire = true;
    return plan;
  }
  plan.warn = options.delay_warning > 0 && !envelope.null_sender() && envelope.delay_warned == 0 &&
              now >= envelope.arrival + options.delay_warning;

  bool scheduled_by_deferrer = envelope.next_attempt == 0 || envelope.next_attempt == mtime;
  if (scheduled_by_deferrer) {
    int64_t due = std::min(relay::next_attempt_time(envelope, now, options.policy), plan.lifetime_end);
    int64_t base = envelope.last_attempt > 0 ? envelope.last_attempt : now;
    // A minute or a tenth of the wait early is close enough: not worth rewriting the file.
    int64_t tolerance = std::max<int64_t>(60, (due - base) / 10);
    if (due > now && (envelope.next_attempt == 0 || due > mtime + tolerance)) plan.reschedule_to = due;
  }
  return plan;
}

}  // namespace spoolretry
