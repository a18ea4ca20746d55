#pragma once
// What a pass tells: one line per message acted on (JSON lines with --json; for people with
// --dry-run; otherwise the log alone) and a summary.
#include <cstdint>
#include <string>
#include <utility>

namespace spoolretry {

struct Event {
  Event(std::string id_, std::string action_) : id(std::move(id_)), action(std::move(action_)) {}
  Event& at(int64_t when) { next_attempt = when; return *this; }
  Event& count(int n) { recipients = n; return *this; }
  Event& with_dsn(std::string queue_id) { dsn = std::move(queue_id); return *this; }
  Event& because(std::string text) { detail = std::move(text); return *this; }

  std::string id;
  std::string action;        // move, reschedule, expire, warn, hold, ignore, error; wait (dry run)
  int64_t next_attempt = 0;  // the file's next-attempt time when scanned, or the new one
  int recipients = 0;        // recipients expired or warned about
  std::string dsn;           // queue id of the DSN sent, if any
  std::string detail;        // the deferral kind, or an error
};

struct Summary {
  uint64_t scanned = 0, due = 0, moved = 0, rescheduled = 0, expired = 0, warned = 0, dsns = 0;
  uint64_t busy = 0, held = 0, ignored = 0, errors = 0, recovered = 0;
  uint64_t stats = 0;        // deferred files whose time needed a stat (not known from the index)
  bool index_skip = false;   // deferred/ unchanged since a pass that found nothing due: not read
  int64_t next_due = 0;      // earliest next attempt left in deferred/ (0: none)
};

class Reporter {
 public:
  Reporter(bool json, bool dry_run, int64_t now) : json_(json), dry_run_(dry_run), now_(now) {}
  void event(const Event& e);
  void summary(const Summary& s);

 private:
  bool json_;
  bool dry_run_;
  int64_t now_;
  bool header_done_ = false;
};

}  // namespace spoolretry
