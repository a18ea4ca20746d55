#pragma once
// One stage through a filter into the next: claim each message, ask the filter, act on its
// verdict (move on, put back, hold), and report one result line per message on stdout.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "filters.hpp"
#include "relay/spool.hpp"

namespace relay::spoolrun {

struct RunSettings {
  Stage from = Stage::kIncoming;
  Stage to = Stage::kOutgoing;
  bool loop = false;            // keep running, waiting for new messages
  uint64_t max_messages = 0;    // stop after this many (0: no limit)
  int64_t retry_interval = 60;  // loop: a deferred message is tried again after this many seconds
  bool json = false;
};

class Runner {
 public:
  Runner(Spool& spool, Filter& filter, RunSettings settings) : spool_(spool), filter_(filter), settings_(settings) {}
  // Returns the exit code: 0 when the run ended normally (messages may have been held or
  // deferred; each has its result line).
  int run();

 private:
  // Messages sent to a pipelining filter and not yet answered hold at most this many bytes,
  // and no more than the filter's pipe takes (one message may be larger): the claims and
  // their requests stay in memory meanwhile, and a send never waits for the filter.
  static constexpr size_t kMaxInFlightBytes = 4 << 20;

  uint64_t pass();              // one sweep over the stage; returns messages handled
  std::optional<Claim> try_claim(const std::string& id);
  void handle(Claim& claim, filter::Verdict verdict);
  void report(const std::string& id, std::string_view status, std::string_view reason);
  void flush_results();
  void wait_for_mail(int watch_fd);

  Spool& spool_;
  Filter& filter_;
  RunSettings settings_;
  uint64_t handled_ = 0;
  std::map<std::string, int64_t> retry_at_;  // loop mode: deferred ids and when to try them again
};

}  // namespace relay::spoolrun
