#include "retry_pass.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "deferred_index.hpp"
#include "relay/dsn.hpp"
#include "relay/exit_codes.hpp"
#include "relay/retry_schedule.hpp"

namespace spoolretry {
namespace {

std::string kind_of(const relay::Envelope& envelope) {
  return std::string(relay::to_string(relay::classify_deferral(envelope)));
}

std::string describe(const Plan& plan) {
  if (plan.expire) return "expire";
  std::string what = plan.warn ? "warn, " : "";
  return what + (plan.reschedule_to != 0 ? "reschedule" : "move");
}

// Asks for the first page of every due file at once. A pass that finds them out of the page
// cache (cron runs minutes apart) then waits for their reads together, not one after another.
void read_ahead(const relay::Spool& spool, const std::vector<DeferredFile>& due) {
  int dir = ::open(spool.path(relay::Stage::kDeferred, "").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return;
  for (const DeferredFile& f : due) {
    int fd = ::openat(dir, f.id.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    ::posix_fadvise(fd, 0, 4096, POSIX_FADV_WILLNEED);
    ::close(fd);
  }
  ::close(dir);
}

}  // namespace

Summary RetryPass::run(int64_t now) {
  summary_ = Summary{};
  rescheduled_earliest_ = std::numeric_limits<int64_t>::max();
  if (!options_.dry_run) summary_.recovered = static_cast<uint64_t>(spool_.recover_leases(now, options_.lease));

  DeferredIndex index(spool_);
  DeferredListing listing = index.list(now, !options_.full_scan, options_.dry_run);
  summary_.scanned = listing.count;
  summary_.stats = listing.stats;
  summary_.due = listing.due.size();
  summary_.index_skip = listing.unchanged_idle;
  auto by_time = [](const DeferredFile& a, const DeferredFile& b) {
    return a.mtime != b.mtime ? a.mtime < b.mtime : a.id < b.id;
  };
  std::sort(listing.due.begin(), listing.due.end(), by_time);
  if (!options_.dry_run) read_ahead(spool_, listing.due);

  for (const DeferredFile& f : listing.due) {
    if (options_.dry_run) {
      preview_due(f.id, f.mtime, now);
      continue;
    }
    try {
      handle_due(f, now, index);
    } catch (const relay::Failure& e) {
      // The claim (if any) was put back unchanged: still due, the next pass tries again.
      ++summary_.errors;
      reporter_.event(Event(f.id, "error").because(e.what()));
    }
  }
  if (moved_without_sync_) spool_.sync(relay::Stage::kOutgoing);

  if (options_.dry_run) {
    std::sort(listing.waiting.begin(), listing.waiting.end(), by_time);
    for (const DeferredFile& f : listing.waiting) reporter_.event(Event(f.id, "wait").at(f.mtime));
  } else {
    index.save(!listing.due.empty());
  }
  int64_t next_due = listing.next_due != 0 ? listing.next_due : std::numeric_limits<int64_t>::max();
  next_due = std::min(next_due, rescheduled_earliest_);
  summary_.next_due = next_due == std::numeric_limits<int64_t>::max() ? 0 : next_due;
  reporter_.summary(summary_);
  return summary_;
}

void RetryPass::preview_due(const std::string& id, int64_t mtime, int64_t now) {
  std::optional<relay::Envelope> envelope;
  try {
    envelope = spool_.read_envelope(relay::Stage::kDeferred, id);
  } catch (const relay::Failure& f) {
    reporter_.event(Event(id, "hold").at(mtime).because(f.what()));
    return;
  }
  if (!envelope) return;  // moved on meanwhile
  Plan plan = plan_for(*envelope, mtime, now, options_);
  reporter_.event(Event(id, describe(plan)).at(plan.reschedule_to ? plan.reschedule_to : mtime).because(kind_of(*envelope)));
}

void RetryPass::handle_due(const DeferredFile& file, int64_t now, DeferredIndex& index) {
  const std::string& id = file.id;
  if (!relay::valid_id(id)) {
    // Not written by the toolkit: left alone, for the operator to look at.
    ++summary_.ignored;
    reporter_.event(Event(id, "ignore").because("not a queue id"));
    return;
  }
  auto locked = spool_.lock(relay::Stage::kDeferred, id);
  if (!locked) {
    ++summary_.busy;
    return;
  }
  // The listing may be older than the file: a file deferred again since is not due.
  int64_t mtime = locked->mtime();
  if (mtime > now) {
    index.record(file, mtime);  // the index had an older time (another pass saved it): heal it
    ++summary_.busy;
    return;
  }
  std::optional<relay::Envelope> envelope;
  try {
    envelope = locked->read_envelope();
  } catch (const relay::Failure& e) {
    if (e.code() != relay::kExitData) throw;
    locked->unlock();
    claim_or_park(id);  // moves it to hold/ (or finds it readable now: put back, due next pass)
    return;
  }
  Plan plan = plan_for(*envelope, mtime, now, options_);
  if (!plan.expire && !plan.warn && plan.reschedule_to != 0) {
    // Only its time changes: set in place under the lock, no rewrite. The envelope keeps the
    // deferrer's next-attempt, so when the new time comes it reads as set by hand: moved.
    locked->set_mtime(plan.reschedule_to);
    index.record(file, plan.reschedule_to);
    note_rescheduled(id, plan.reschedule_to, kind_of(*envelope));
    return;
  }
  if (plan.plain_move()) {
    if (!locked->move_to(relay::Stage::kOutgoing)) {
      ++summary_.busy;
      return;
    }
    moved_without_sync_ = true;
    ++summary_.moved;
    reporter_.event(Event(id, "move").because(kind_of(*envelope)));
    return;
  }
  // Writing the envelope, a DSN or a new time needs the full claim through active/.
  locked->unlock();
  std::optional<relay::Claim> claim = claim_or_park(id);
  if (claim) act(*claim, plan_for(claim->envelope(), mtime, now, options_), now);
}

std::optional<relay::Claim> RetryPass::claim_or_park(const std::string& id) {
  // claim() moves a message whose envelope cannot be read to hold/ and says so.
  try {
    std::optional<relay::Claim> claim = spool_.claim(relay::Stage::kDeferred, id);
    if (!claim) ++summary_.busy;
    return claim;
  } catch (const relay::Failure& f) {
    if (f.code() != relay::kExitData) throw;
    ++summary_.held;
    reporter_.event(Event(id, "hold").because(f.what()));
    return std::nullopt;
  }
}

void RetryPass::note_rescheduled(const std::string& id, int64_t when, const std::string& kind) {
  ++summary_.rescheduled;
  rescheduled_earliest_ = std::min(rescheduled_earliest_, when);
  reporter_.event(Event(id, "reschedule").at(when).because(kind));
}

void RetryPass::act(relay::Claim& claim, const Plan& plan, int64_t now) {
  if (plan.expire) {
    expire(claim, plan, now);
    return;
  }
  relay::Envelope envelope = claim.envelope();
  std::string kind = kind_of(envelope);
  if (plan.warn) {
    std::string dsn = send_delay_warning(claim, plan, now);
    envelope.delay_warned = now;
    ++summary_.warned;
    reporter_.event(Event(claim.id(), "warn").count(static_cast<int>(envelope.pending_count())).with_dsn(dsn));
  }
  if (plan.reschedule_to != 0) {
    envelope.next_attempt = plan.reschedule_to;
    claim.finish(relay::Stage::kDeferred, envelope, claim.message(), plan.reschedule_to);
    note_rescheduled(claim.id(), plan.reschedule_to, kind);
    return;
  }
  if (plan.warn)
    claim.finish(relay::Stage::kOutgoing, envelope, claim.message());
  else
    claim.finish(relay::Stage::kOutgoing);
  ++summary_.moved;
  reporter_.event(Event(claim.id(), "move").because(kind));
}

relay::DsnOptions RetryPass::dsn_options(relay::DsnAction action, const Plan& plan, int64_t now) const {
  relay::DsnOptions dsn;
  dsn.action = action;
  dsn.reporting_mta = options_.hostname;
  dsn.return_limit = options_.dsn_return_limit;
  dsn.now = now;
  dsn.retry_until = plan.lifetime_end;
  return dsn;
}

std::string RetryPass::send_delay_warning(relay::Claim& claim, const Plan& plan, int64_t now) {
  relay::DsnOptions dsn = dsn_options(relay::DsnAction::kDelayed, plan, now);
  auto id = relay::send_dsn(spool_, claim.envelope(), claim.message(), dsn);
  if (id) ++summary_.dsns;
  return id.value_or("");
}

void RetryPass::expire(relay::Claim& claim, const Plan& plan, int64_t now) {
  relay::Envelope envelope = claim.envelope();
  relay::DsnOptions dsn = dsn_options(relay::DsnAction::kFailed, plan, now);
  for (size_t i = 0; i < envelope.recipients.size(); ++i) {
    relay::Recipient& r = envelope.recipients[i];
    if (r.done()) continue;
    r.state = relay::RecipientState::kFailed;
    r.status = "4.4.7";  // RFC 3463: delivery time expired
    dsn.only.push_back(i);
  }
  envelope.next_attempt = 0;
  // The DSN is on disk before the message leaves deferred/: a crash in between can repeat
  // the DSN, never lose it.
  auto id = relay::send_dsn(spool_, envelope, claim.message(), dsn);
  claim.finish(relay::Stage::kFailed, envelope, claim.message());
  ++summary_.expired;
  if (id) ++summary_.dsns;
  reporter_.event(Event(claim.id(), "expire").count(static_cast<int>(dsn.only.size())).with_dsn(id.value_or("")).because("4.4.7 delivery time expired"));
}

}  // namespace spoolretry
