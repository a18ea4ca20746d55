#include "runner.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <deque>

#include "relay/exit_codes.hpp"
#include "relay/json.hpp"
#include "relay/log.hpp"
#include "relay/spool_tools_hold.hpp"

namespace relay::spoolrun {
namespace {

volatile sig_atomic_t stop_requested = 0;

void request_stop(int) { stop_requested = 1; }

// SIGTERM and SIGINT end the run after the message in hand, never in the middle of one.
void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaction(sig, &action, nullptr);
}

int64_t now_seconds() { return static_cast<int64_t>(std::time(nullptr)); }

}  // namespace

int Runner::run() {
  install_stop_handlers();
  int watch_fd = -1;
  if (settings_.loop) {
    watch_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    // Mail enters a stage by rename, or by link from smtp-listen's intake journal (IN_CREATE).
    if (watch_fd < 0 ||
        inotify_add_watch(watch_fd, spool_.path(settings_.from, "").c_str(), IN_MOVED_TO | IN_CREATE | IN_CLOSE_WRITE) < 0)
      fail_errno("unable to watch " + spool_.path(settings_.from, ""), errno);
  }
  try {
    for (;;) {
      pass();
      bool limit = settings_.max_messages != 0 && handled_ >= settings_.max_messages;
      if (!settings_.loop || limit || stop_requested) break;
      wait_for_mail(watch_fd);
      if (stop_requested) break;
    }
  } catch (...) {
    if (watch_fd >= 0) ::close(watch_fd);
    throw;
  }
  if (watch_fd >= 0) ::close(watch_fd);
  return kExitOk;
}

void Runner::wait_for_mail(int watch_fd) {
  pollfd p{watch_fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(settings_.retry_interval * 1000)) > 0) {
    char events[4096];
    while (::read(watch_fd, events, sizeof events) > 0) {
    }
  }
}

std::optional<Claim> Runner::try_claim(const std::string& id) {
  try {
    return spool_.claim(settings_.from, id);  // nullopt: another process has it
  } catch (const Failure& e) {
    if (e.code() != kExitData) throw;
    // An unreadable envelope: the spool parked it in hold/; the rest of the stage goes on.
    log::warning(e.what());
    return std::nullopt;
  }
}

// With a pipelining filter, the next messages are claimed and sent while the filter works on
// earlier ones, and each verdict is applied to its own claim in the order they were sent.
uint64_t Runner::pass() {
  uint64_t count = 0;
  int64_t now = now_seconds();
  std::deque<Claim> in_flight;  // submitted, oldest first; a deque keeps each claim in place
  size_t in_flight_bytes = 0;
  auto settle_oldest = [&] {
    Claim& claim = in_flight.front();
    in_flight_bytes -= claim.message().size();
    handle(claim, filter_.collect());
    in_flight.pop_front();
  };
  // The stage in arrival order; the names are all a pass needs (no stat per file).
  for (const SpoolEntry& entry : spool_.list(settings_.from, false)) {
    const std::string& id = entry.id;
    if (stop_requested || (settings_.max_messages != 0 && handled_ >= settings_.max_messages)) break;
    auto retry = retry_at_.find(id);
    if (retry != retry_at_.end()) {
      if (retry->second > now) continue;
      retry_at_.erase(retry);
    }
    std::optional<Claim> claim = try_claim(id);
    if (!claim) continue;
    size_t size = claim->message().size();
    while (!in_flight.empty() &&
           (in_flight.size() >= filter_.window() ||
            in_flight_bytes + size > std::min(kMaxInFlightBytes, filter_.window_bytes())))
      settle_oldest();
    in_flight.push_back(std::move(*claim));
    in_flight_bytes += size;
    filter_.submit(in_flight.back().envelope(), in_flight.back().message());
    ++count;
    ++handled_;
  }
  while (!in_flight.empty()) settle_oldest();
  flush_results();
  return count;
}

void Runner::handle(Claim& claim, filter::Verdict verdict) {
  const std::string id = claim.id();
  if (verdict.code == kExitOk && verdict.prepend) {
    // The message stays as it is, behind the bytes the filter adds (if any).
    if (verdict.message.empty())
      claim.finish(settings_.to);
    else
      claim.finish_prepended(settings_.to, verdict.message);
    report(id, "passed", "");
  } else if (verdict.code == kExitOk && !verdict.message.empty()) {
    claim.finish(settings_.to, claim.envelope(), verdict.message);
    report(id, "passed", "");
  } else if (verdict.code == kExitTemporary) {
    claim.release();
    if (settings_.loop) retry_at_[id] = now_seconds() + settings_.retry_interval;
    report(id, "deferred", verdict.reason);
  } else {
    std::string reason = verdict.code == kExitOk ? "filter wrote no message" : verdict.reason;
    if (reason.empty()) reason = "filter answered " + std::to_string(verdict.code);
    hold::hold_claimed(claim, reason);
    report(id, "held", reason);
  }
}

void Runner::report(const std::string& id, std::string_view status, std::string_view reason) {
  std::string line = settings_.json ? JsonObject().add("id", id).add("status", status).add("reason", reason).str()
                                    : id + " " + std::string(status) + (reason.empty() ? "" : " " + std::string(reason));
  line += '\n';
  // stdio buffers the lines (by line on a terminal), saving a write per message; the end of
  // each pass flushes them, so --loop never sleeps on results not yet written.
  if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size()) fail_errno("unable to write the results", errno);
}

void Runner::flush_results() {
  if (std::fflush(stdout) != 0) fail_errno("unable to write the results", errno);
}

}  // namespace relay::spoolrun
