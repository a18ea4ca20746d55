#pragma once
// The cheap path for a due message that only needs to go back to outgoing/: lock it where it
// lies and rename it, without the detour through active/ and without syncing the directory
// per message. Losing such a rename in a crash leaves the message in deferred/, still due,
// where the next run finds it; the pass syncs outgoing/ once at the end.
#include <cstdint>
#include <optional>
#include <string>

#include "relay/spool.hpp"

namespace spoolretry {

class LockedDue {
 public:
  // nullopt when the file is gone (another process moved it) or locked by another process.
  static std::optional<LockedDue> lock(const relay::Spool& spool, const std::string& id);
  LockedDue(LockedDue&& other) noexcept;
  LockedDue& operator=(LockedDue&&) = delete;
  ~LockedDue();

  // The file's next-attempt time now (the listing may have been older).
  int64_t mtime() const;
  // Reads its envelope; Failure(kExitData) when it is not one.
  relay::Envelope read_envelope() const;
  // false when the file was moved away meanwhile.
  bool move_to_outgoing();
  // Sets its next-attempt time where it lies. Not synced: lost in a crash, the file keeps its
  // earlier (due) time and the next pass reschedules it again.
  void set_mtime(int64_t next_attempt);
  // Gives the lock up (before a full Claim takes the message).
  void unlock();

 private:
  LockedDue(const relay::Spool& spool, std::string id, int fd) : spool_(&spool), id_(std::move(id)), fd_(fd) {}
  const relay::Spool* spool_;
  std::string id_;
  int fd_;
};

// fsync of one stage directory: makes the renames into it durable.
void sync_stage(const relay::Spool& spool, relay::Stage stage);

}  // namespace spoolretry
