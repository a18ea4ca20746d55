#pragma once
// Spool mode: claims every message of outgoing/, delivers many at once, records each
// recipient's outcome in the envelope and moves the message on (sent/, deferred/, failed/),
// returning a DSN to the sender for the recipients that failed.
#include <cstdint>
#include <string>

#include "config.hpp"
#include "relay/clock.hpp"

namespace mxdeliver {

struct SpoolRunOptions {
  std::string dir;
  int concurrency = 20;        // messages delivered at once
  int per_destination = 20;    // sessions at once to one destination
  bool keep_sent = true;       // delivered messages go to sent/ (else they are removed)
  int64_t min_backoff = 300;   // seconds before a deferred message is due again
  int64_t lease = 60;          // active/ entries left unlocked this long are taken back
  bool json = false;           // the per-recipient report on stdout as JSON lines
};

// Returns the exit code: 0 when the pass ran (whatever the outcomes), 75 when a message could
// not be handled for a local reason (it stays in the spool).
int run_spool(const Config& config, const SpoolRunOptions& options, const relay::Clock& clock);

}  // namespace mxdeliver
