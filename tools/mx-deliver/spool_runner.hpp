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
  bool loop = false;           // keep running: deliver what arrives until SIGTERM
};

// Returns the exit code: 0 when the pass ran (whatever the outcomes), 75 when a message could
// not be handled for a local reason (it stays in the spool). With loop, passes run whenever
// mail arrives in outgoing/ (and every minute) until SIGTERM or SIGINT; the exit code is 0.
int run_spool(const Config& config, const SpoolRunOptions& options, const relay::Clock& clock);

}  // namespace mxdeliver
