#include "commands.hpp"

#include <algorithm>
#include <cstdio>

#include "relay/exit_codes.hpp"
#include "relay/json.hpp"
#include "relay/log.hpp"
#include "relay/spool_tools_hold.hpp"
#include "relay/spool_tools_listing.hpp"

namespace relay::spoolctl {
namespace {

// Where id is now; a Failure when it is not in the spool or a process is working on it.
SpoolEntry locate(const Spool& spool, const std::string& id) {
  if (!valid_id(id)) throw Failure(kExitData, "unable to find message '" + log::sanitize(id) + "': not a queue id");
  auto entry = spool.find(id);
  if (!entry) throw Failure(kExitData, "unable to find message " + id + ": it is not in the spool");
  return *entry;
}

SpoolEntry locate_idle(const Spool& spool, const std::string& id) {
  SpoolEntry entry = locate(spool, id);
  if (entry.stage == Stage::kActive)
    throw Failure(kExitTemporary, "unable to change message " + id + ": a process is working on it (try again)");
  return entry;
}

Claim claim_or_retry(Spool& spool, Stage stage, const std::string& id) {
  auto claim = spool.claim(stage, id);
  if (!claim) throw Failure(kExitTemporary, "unable to claim message " + id + ": another process moved it (try again)");
  return std::move(*claim);
}

// Runs action for every id; one failing id does not stop the others. Returns the worst code.
template <typename Action>
int for_each_id(const std::vector<std::string>& ids, Action action) {
  int worst = kExitOk;
  for (const auto& id : ids) {
    try {
      action(id);
    } catch (const Failure& e) {
      log::fatal(e.what());
      worst = std::max(worst, e.code());
    }
  }
  return worst;
}

void write_out(std::string_view text) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size())
    fail_errno("unable to write standard output", errno);
}

}  // namespace

int show(const Spool& spool, const std::string& id, ShowPart part, bool json) {
  SpoolEntry entry = locate(spool, id);
  auto loaded = spool.load(entry.stage, entry.file_name());
  if (!loaded) throw Failure(kExitTemporary, "unable to read message " + id + ": it moved meanwhile (try again)");
  if (json) {
    JsonObject o = listing::message_json(entry, loaded->envelope);
    if (part != ShowPart::kEnvelope) o.add("message", loaded->message);
    write_out(o.str() + "\n");
    return kExitOk;
  }
  if (part != ShowPart::kMessage) write_out(serialize(loaded->envelope));
  if (part != ShowPart::kEnvelope) write_out(loaded->message);
  return kExitOk;
}

int hold(Spool& spool, const std::vector<std::string>& ids, const std::string& reason) {
  return for_each_id(ids, [&](const std::string& id) {
    SpoolEntry entry = locate_idle(spool, id);
    if (entry.stage == Stage::kHold) {
      log::warning("message " + id + " is already in hold/");
      return;
    }
    if (entry.stage != Stage::kIncoming && entry.stage != Stage::kOutgoing && entry.stage != Stage::kDeferred)
      throw Failure(kExitData, "unable to hold message " + id + ": it is in " + std::string(to_string(entry.stage)) +
                                   "/, not in the queue");
    Claim claim = claim_or_retry(spool, entry.stage, id);
    hold::hold_claimed(claim, reason);
    log::event({{"id", id}, {"status", "held"}, {"from", to_string(entry.stage)}});
  });
}

int release(Spool& spool, const std::vector<std::string>& ids, const std::string& to_stage) {
  std::optional<Stage> forced;
  if (!to_stage.empty()) {
    forced = parse_stage(to_stage);
    if (!forced || (*forced != Stage::kIncoming && *forced != Stage::kOutgoing && *forced != Stage::kDeferred))
      throw Failure(kExitUsage, "unable to release to '" + log::sanitize(to_stage) +
                                    "': expected incoming, outgoing or deferred");
  }
  return for_each_id(ids, [&](const std::string& id) {
    SpoolEntry entry = locate_idle(spool, id);
    if (entry.stage != Stage::kHold) throw Failure(kExitData, "unable to release message " + id + ": it is not in hold/");
    Claim claim = claim_or_retry(spool, Stage::kHold, id);
    Stage target = hold::release_claimed(claim, forced);
    log::event({{"id", id}, {"status", "released"}, {"to", to_string(target)}});
  });
}

int remove(Spool& spool, const std::vector<std::string>& ids) {
  return for_each_id(ids, [&](const std::string& id) {
    SpoolEntry entry = locate_idle(spool, id);
    if (!spool.remove(entry.stage, id))
      throw Failure(kExitTemporary, "unable to delete message " + id + ": another process moved it (try again)");
    log::event({{"id", id}, {"status", "deleted"}, {"from", to_string(entry.stage)}});
  });
}

int requeue(Spool& spool, const std::vector<std::string>& ids, bool all, bool json) {
  uint64_t moved = 0;
  int code = kExitOk;
  if (all) {
    std::vector<std::string> deferred;
    spool.scan(Stage::kDeferred, [&](const SpoolEntry& e) { deferred.push_back(e.id); });
    // Lost races are fine here: whoever took the message is working on it.
    for (const auto& id : deferred) moved += spool.move(Stage::kDeferred, id, Stage::kOutgoing) ? 1 : 0;
  } else {
    code = for_each_id(ids, [&](const std::string& id) {
      SpoolEntry entry = locate_idle(spool, id);
      if (entry.stage != Stage::kDeferred)
        throw Failure(kExitData, "unable to requeue message " + id + ": it is not in deferred/");
      if (!spool.move(Stage::kDeferred, id, Stage::kOutgoing))
        throw Failure(kExitTemporary, "unable to requeue message " + id + ": another process moved it (try again)");
      ++moved;
    });
  }
  write_out(json ? JsonObject().add("requeued", moved).str() + "\n" : "requeued " + std::to_string(moved) + "\n");
  return code;
}

int purge_tmp(Spool& spool, int64_t now, int64_t max_age, bool json) {
  int purged = spool.purge_tmp(now, max_age);
  write_out(json ? JsonObject().add("purged", purged).str() + "\n" : "purged " + std::to_string(purged) + "\n");
  return kExitOk;
}

int recover(Spool& spool, int64_t now, int64_t lease, bool json) {
  int recovered = spool.recover_leases(now, lease);
  write_out(json ? JsonObject().add("recovered", recovered).str() + "\n" : "recovered " + std::to_string(recovered) + "\n");
  return kExitOk;
}

}  // namespace relay::spoolctl
