#pragma once
// One pass over deferred/: recover expired leases, find what is due by readdir and stat alone,
// and for each due message move it to outgoing/, reschedule it, warn its sender of the delay
// or expire it with a DSN. Overlapping passes (and mx-deliver) never take one message twice:
// every step holds the message's lock, and a loser of any race moves on.
#include <cstdint>
#include <optional>
#include <string>

#include "options.hpp"
#include "deferred_index.hpp"
#include "plan.hpp"
#include "relay/dsn.hpp"
#include "relay/spool.hpp"
#include "report.hpp"

namespace spoolretry {

class RetryPass {
 public:
  RetryPass(relay::Spool& spool, const Options& options, Reporter& reporter)
      : spool_(spool), options_(options), reporter_(reporter) {}

  Summary run(int64_t now);

 private:
  void handle_due(const DeferredFile& file, int64_t now, DeferredIndex& index);
  void preview_due(const std::string& id, int64_t mtime, int64_t now);
  void act(relay::Claim& claim, const Plan& plan, int64_t now);
  void note_rescheduled(const std::string& id, int64_t when, const std::string& kind);
  void expire(relay::Claim& claim, const Plan& plan, int64_t now);
  std::string send_delay_warning(relay::Claim& claim, const Plan& plan, int64_t now);
  std::optional<relay::Claim> claim_or_park(const std::string& id);
  relay::DsnOptions dsn_options(relay::DsnAction action, const Plan& plan, int64_t now) const;

  relay::Spool& spool_;
  const Options& options_;
  Reporter& reporter_;
  Summary summary_;
  bool moved_without_sync_ = false;
  int64_t rescheduled_earliest_ = 0;
};

}  // namespace spoolretry
