#pragma once
// The nothing-due shortcut, so an idle run costs the same at 100 or 100,000 deferred
// messages. After a full scan of deferred/ that found nothing due, the pass records the
// directory's modification time (taken before the scan) and the earliest next attempt it saw
// in SPOOL/.retry-hint. Any rename into or out of deferred/ changes that time; while it is
// unchanged and the earliest attempt is still ahead, nothing can be due and the scan is skipped.
// Changing a deferred file's time in place (touch) is not seen: use spool-ctl, or --full-scan.
#include <cstdint>
#include <optional>

#include "relay/spool.hpp"

namespace spoolretry {

struct DirStamp {
  int64_t seconds = 0;
  int64_t nanos = 0;
  bool operator==(const DirStamp&) const = default;
};

DirStamp deferred_stamp(const relay::Spool& spool);

// True when the hint file says nothing is due before now and deferred/ has not changed since.
bool hint_says_nothing_due(const relay::Spool& spool, int64_t now);

// Records the hint; skipped when deferred/ changed in the last two seconds of real time, since
// a file system's coarse clock could give a later change the same time.
void save_hint(const relay::Spool& spool, const DirStamp& before_scan, int64_t next_due);

// Removes the hint (after a pass that changed deferred/).
void forget_hint(const relay::Spool& spool);

}  // namespace spoolretry
