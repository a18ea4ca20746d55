#include "spool_runner.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "deliverer.hpp"
#include "dns_cache.hpp"
#include "outgoing_watch.hpp"
#include "relay/cli.hpp"
#include "relay/dsn.hpp"
#include "relay/log.hpp"
#include "relay/retry_schedule.hpp"
#include "relay/spool.hpp"
#include "report.hpp"

namespace mxdeliver {
namespace {

using relay::RecipientState;
using relay::smtp::Outcome;

constexpr int kLoopIdleMs = 60'000;
constexpr int kLoopSliceMs = 1000;
constexpr int64_t kErrorBackoff = 60;  // seconds before a message that hit a local error is tried again

// The envelope mark of a failed recipient whose DSN is not yet out: rcpt.dsn=due.
constexpr const char* kDsnMark = "dsn";
constexpr const char* kDsnDue = "due";

RecipientState state_of(Outcome outcome) {
  switch (outcome) {
    case Outcome::kSent: return RecipientState::kSent;
    case Outcome::kFailed: return RecipientState::kFailed;
    case Outcome::kDeferred: break;
  }
  return RecipientState::kDeferred;
}

double seconds_since(const relay::Timestamp& now, int64_t then) {
  return static_cast<double>(now.seconds - then) + now.micros / 1e6;
}

struct Counters {
  std::atomic<uint64_t> messages{0}, sent{0}, deferred{0}, failed{0}, errors{0}, dsns{0};
};

class SpoolRun {
 public:
  SpoolRun(const Config& config, const SpoolRunOptions& options, const relay::Clock& clock)
      : config_(config), options_(options), clock_(clock), spool_(options.dir), tls_(config.tls_ca),
        cache_(config.max_per_connection, config.idle_limit_ms), slots_(options.per_destination) {}

  int run() {
    // The resolvers are made first, so a bad --resolver fails before any message is claimed.
    int threads = std::max(1, options_.concurrency);
    for (int i = 0; i < threads; ++i) resolvers_.push_back(relay::dns::make_resolver({.server = config_.resolver}));
    if (!options_.loop) {
      pass();
      return counters_.errors > 0 ? relay::kExitTemporary : relay::kExitOk;
    }
    catch_stop_signals();
    // Watching starts before the first pass, so nothing that arrives meanwhile is missed.
    OutgoingWatch watch(spool_.path(relay::Stage::kOutgoing, ""));
    while (!stop_requested()) {
      pass();
      // Every minute regardless: leases run out and messages that hit a local error come due.
      for (int waited = 0; waited < kLoopIdleMs && !stop_requested(); waited += kLoopSliceMs) {
        if (watch.wait(kLoopSliceMs)) break;
        cache_.close_idle();
      }
    }
    cache_.close_all();
    return relay::kExitOk;
  }

 private:
  // The next id to try: from the queue, refilled from outgoing/ with ids not seen in this run.
  std::optional<std::string> next_id() {
    std::lock_guard lock(queue_mutex_);
    if (stop_requested()) return std::nullopt;
    if (queue_.empty()) {
      const int64_t now = clock_.seconds();
      std::erase_if(failed_until_, [&](const auto& entry) { return entry.second <= now; });
      for (const auto& entry : spool_.list(relay::Stage::kOutgoing)) {
        auto failed = failed_until_.find(entry.id);
        if (failed != failed_until_.end() && failed->second > now) continue;
        if (seen_.insert(entry.id).second) queue_.push_back(entry.id);
      }
    }
    if (queue_.empty()) return std::nullopt;
    std::string id = std::move(queue_.front());
    queue_.pop_front();
    return id;
  }

  // Delivers everything in outgoing/ (also what arrives during the pass), then logs a summary.
  void pass() {
    int recovered = spool_.recover_leases(clock_.seconds(), options_.lease);
    if (recovered > 0) relay::log::info("recovered " + std::to_string(recovered) + " message(s) from active/");
    seen_.clear();
    Counts before = snapshot();
    std::vector<std::thread> workers;
    for (auto& inner : resolvers_)
      workers.emplace_back([this, &inner] {
        CachedResolver resolver(*inner, dns_cache_);
        work(resolver);
      });
    for (auto& w : workers) w.join();
    if (!options_.loop) cache_.close_all();
    Counts now = snapshot();
    if (options_.loop && now.messages == before.messages) return;
    relay::log::info("done messages=" + std::to_string(now.messages - before.messages) +
                     " sent=" + std::to_string(now.sent - before.sent) +
                     " deferred=" + std::to_string(now.deferred - before.deferred) +
                     " failed=" + std::to_string(now.failed - before.failed) +
                     " dsn=" + std::to_string(now.dsns - before.dsns) +
                     " connections=" + std::to_string(now.connections - before.connections) +
                     " errors=" + std::to_string(now.errors - before.errors));
  }

  struct Counts {
    uint64_t messages, sent, deferred, failed, dsns, connections, errors;
  };
  Counts snapshot() const {
    return {counters_.messages, counters_.sent, counters_.deferred, counters_.failed,
            counters_.dsns,     cache_.opened(), counters_.errors};
  }

  void work(relay::dns::Resolver& resolver) {
    Deliverer deliverer(config_, resolver, tls_, cache_, &slots_);
    for (;;) {
      std::optional<std::string> id;
      try {
        id = next_id();
      } catch (const std::exception& e) {
        ++counters_.errors;
        relay::log::warning(std::string("unable to list the outgoing messages: ") + e.what());
        return;
      }
      if (!id) return;
      try {
        std::optional<relay::Claim> claim = spool_.claim(relay::Stage::kOutgoing, *id);
        if (!claim) continue;  // another process got it first
        ++counters_.messages;
        process(*claim, deliverer);
      } catch (const std::exception& e) {
        // The claim went back to outgoing/ when it was destroyed: nothing is lost.
        ++counters_.errors;
        relay::log::warning(*id + ": unable to deliver the message: " + e.what());
        std::lock_guard lock(queue_mutex_);
        failed_until_[*id] = clock_.seconds() + kErrorBackoff;
      }
    }
  }

  void process(relay::Claim& claim, Deliverer& deliverer) {
    relay::Envelope& envelope = claim.envelope();
    const std::string& message = claim.message();
    std::vector<size_t> undone;
    for (size_t i = 0; i < envelope.recipients.size(); ++i)
      if (!envelope.recipients[i].done()) undone.push_back(i);
    std::string report = undone.empty() ? "" : attempt(claim, deliverer, undone);
    report_failures(claim, message);
    move_on(claim);
    print(report);
  }

  // The report goes out after the outcomes are on disk; a closed stdout costs the report,
  // never a second delivery.
  void print(const std::string& report) {
    std::lock_guard lock(report_mutex_);
    if (report.empty() || stdout_broken_) return;
    try {
      relay::write_all(1, report, "the report");
    } catch (const relay::Failure& e) {
      stdout_broken_ = true;
      relay::log::warning(e.what());
    }
  }

  // Delivers the recipients in undone and records their outcomes in the envelope; returns
  // their report lines.
  std::string attempt(relay::Claim& claim, Deliverer& deliverer, const std::vector<size_t>& undone) {
    relay::Envelope& envelope = claim.envelope();
    relay::smtp::MailRequest mail;
    mail.sender = envelope.sender;
    mail.ret = envelope.ret;
    mail.envid = envelope.envid;
    mail.smtputf8 = envelope.smtputf8;
    mail.message = claim.message();
    for (size_t i : undone) {
      const auto& r = envelope.recipients[i];
      mail.recipients.push_back({r.address, r.notify, r.orcpt});
    }
    std::vector<RecipientOutcome> outcomes = deliverer.deliver(mail);
    relay::Timestamp now = clock_.now();
    envelope.defer_reason.clear();
    std::string report;
    for (size_t k = 0; k < undone.size(); ++k) {
      relay::Recipient& r = envelope.recipients[undone[k]];
      const RecipientOutcome& o = outcomes[k];
      r.state = state_of(o.outcome);
      r.status = o.status;
      r.response = relay::log::sanitize(o.response);
      r.remote = o.remote;
      r.updated = now.seconds;
      if (o.outcome == Outcome::kFailed) r.extra.emplace_back(kDsnMark, kDsnDue);
      if (o.outcome == Outcome::kDeferred && envelope.defer_reason.empty()) envelope.defer_reason = o.reason;
      relay::log::info(log_line(claim.id(), r.address, o, seconds_since(now, envelope.arrival)));
      report += (options_.json ? report_json(r.address, o, claim.id()) : report_line(r.address, o, claim.id())) + "\n";
    }

    envelope.attempts += 1;
    envelope.last_attempt = now.seconds;
    return report;
  }

  // A DSN for the recipients that failed, as soon as they fail (the others may still be
  // deferred). The failures are marked "dsn=due" on disk before the DSN is made, and the
  // mark goes after: a crash in between repeats a DSN, it never loses one.
  void report_failures(relay::Claim& claim, const std::string& message) {
    relay::Envelope& envelope = claim.envelope();
    auto is_mark = [](const auto& field) { return field.first == kDsnMark; };
    std::vector<size_t> due;
    for (size_t i = 0; i < envelope.recipients.size(); ++i)
      if (std::ranges::any_of(envelope.recipients[i].extra, is_mark)) due.push_back(i);
    if (due.empty()) return;
    if (!envelope.null_sender()) send_failure_dsn(claim, message, due);
    for (size_t i : due) std::erase_if(envelope.recipients[i].extra, is_mark);
  }

  void send_failure_dsn(relay::Claim& claim, const std::string& message, const std::vector<size_t>& due) {
    relay::Envelope& envelope = claim.envelope();
    claim.rewrite_envelope(envelope);
    relay::DsnOptions dsn;
    dsn.action = relay::DsnAction::kFailed;
    dsn.reporting_mta = config_.hostname;
    dsn.now = clock_.seconds();
    dsn.only = due;
    std::optional<std::string> dsn_id;
    {
      std::lock_guard lock(dsn_mutex_);
      dsn_id = relay::send_dsn(spool_, envelope, message, dsn);
    }
    if (dsn_id) {
      ++counters_.dsns;
      relay::log::info(claim.id() + ": sender non-delivery notification: " + *dsn_id);
    }
  }

  void move_on(relay::Claim& claim) {
    relay::Envelope& envelope = claim.envelope();
    bool any_sent = false, any_failed = false, any_pending = false;
    for (const auto& r : envelope.recipients) {
      any_sent |= r.state == RecipientState::kSent;
      any_failed |= r.state == RecipientState::kFailed;
      any_pending |= !r.done();
    }
    if (any_pending) {
      // The schedule spool-retry keeps too: backoff by attempts and by why it deferred.
      relay::RetryPolicy policy;
      policy.min_backoff = options_.min_backoff;
      envelope.next_attempt = relay::next_attempt_time(envelope, clock_.seconds(), policy);
      claim.finish(relay::Stage::kDeferred, envelope, claim.message(), envelope.next_attempt);
      ++counters_.deferred;
      return;
    }
    envelope.defer_reason.clear();
    envelope.next_attempt = 0;
    if (!any_failed && !options_.keep_sent) {
      claim.remove();
      ++counters_.sent;
      return;
    }
    claim.finish(any_sent ? relay::Stage::kSent : relay::Stage::kFailed, envelope, claim.message());
    ++(any_sent ? counters_.sent : counters_.failed);
  }

  const Config& config_;
  const SpoolRunOptions& options_;
  const relay::Clock& clock_;
  relay::Spool spool_;
  relay::smtp::TlsClientContext tls_;
  SessionCache cache_;
  DestinationSlots slots_;
  DnsCache dns_cache_{std::chrono::seconds(60)};
  std::mutex queue_mutex_;
  std::deque<std::string> queue_;
  std::set<std::string> seen_;
  std::map<std::string, int64_t> failed_until_;  // ids that hit a local error: not before then
  std::vector<std::unique_ptr<relay::dns::Resolver>> resolvers_;  // one per worker thread
  std::mutex dsn_mutex_;
  std::mutex report_mutex_;
  bool stdout_broken_ = false;
  Counters counters_;
};

}  // namespace

int run_spool(const Config& config, const SpoolRunOptions& options, const relay::Clock& clock) {
  SpoolRun run(config, options, clock);
  return run.run();
}

}  // namespace mxdeliver
