// spool-ctl stats: counts, bytes and oldest age per stage from readdir and stat alone.
#include <charconv>
#include <cstdio>

#include "commands.hpp"
#include "relay/json.hpp"

namespace relay::spoolctl {
namespace {

struct StageStats {
  uint64_t count = 0;
  uint64_t bytes = 0;
  int64_t oldest = 0;  // arrival of the oldest message, from its id; 0 when empty
  uint64_t due = 0;    // deferred/ only: next attempt reached
};

// Ids start with the arrival second ("1764395000.123456...."), so no envelope is opened.
int64_t arrival_of(const std::string& id) {
  int64_t seconds = 0;
  std::from_chars(id.data(), id.data() + id.size(), seconds);
  return seconds;
}

}  // namespace

int stats(const Spool& spool, int64_t now, bool json) {
  if (!json) std::printf("%-9s %9s %12s %12s %9s\n", "stage", "messages", "bytes", "oldest_age", "due");
  for (Stage stage : kAllStages) {
    StageStats s;
    spool.scan(stage, [&](const SpoolEntry& e) {
      ++s.count;
      s.bytes += static_cast<uint64_t>(e.size);
      int64_t arrival = stage == Stage::kTmp ? e.mtime : arrival_of(e.id);
      if (arrival > 0 && (s.oldest == 0 || arrival < s.oldest)) s.oldest = arrival;
      if (stage == Stage::kDeferred && e.mtime <= now) ++s.due;
    });
    int64_t age = s.oldest == 0 ? 0 : std::max<int64_t>(now - s.oldest, 0);
    if (json) {
      JsonObject o;
      o.add("stage", to_string(stage)).add("messages", s.count).add("bytes", s.bytes).add("oldest_age", age);
      if (stage == Stage::kDeferred) o.add("due", s.due);
      std::printf("%s\n", o.str().c_str());
    } else {
      std::string due = stage == Stage::kDeferred ? std::to_string(s.due) : "-";
      std::printf("%-9s %9llu %12llu %12lld %9s\n", std::string(to_string(stage)).c_str(),
                  static_cast<unsigned long long>(s.count), static_cast<unsigned long long>(s.bytes),
                  static_cast<long long>(age), due.c_str());
    }
  }
  return 0;
}

}  // namespace relay::spoolctl
