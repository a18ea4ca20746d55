#pragma once
// What to do with one due deferred message, decided from its envelope alone (no I/O).
#include <cstdint>

#include "options.hpp"
#include "relay/envelope.hpp"

namespace spoolretry {

struct Plan {
  bool expire = false;        // lifetime over: the rest fails with 4.4.7, DSN, failed/
  bool warn = false;          // send the delay warning now
  int64_t reschedule_to = 0;  // not 0: back into deferred/ until then instead of outgoing/
  int64_t lifetime_end = 0;   // arrival plus the lifetime that applies

  bool plain_move() const { return !expire && !warn && reschedule_to == 0; }
};

// mtime is the file's next-attempt time (it is due: mtime <= now). A deferrer that scheduled
// it sooner than the backoff rules allow gets it rescheduled, unless the file's time no longer
// matches the envelope's next-attempt (someone set it by hand: honoured).
Plan plan_for(const relay::Envelope& envelope, int64_t mtime, int64_t now, const Options& options);

}  // namespace spoolretry
