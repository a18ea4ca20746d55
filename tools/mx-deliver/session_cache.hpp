#pragma once
// Open SMTP sessions kept between messages to the same destination (RSET between
// transactions), with a cap on transactions per connection and an idle limit; and the
// per-destination concurrency limit.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "relay/smtp_client_session.hpp"

namespace mxdeliver {

class SessionCache {
 public:
  SessionCache(int max_per_connection, int idle_limit_ms)
      : max_per_connection_(max_per_connection), idle_limit_(idle_limit_ms) {}
  ~SessionCache() { close_all(); }

  // An idle session for key, already reset with RSET; nullptr when none is usable.
  std::unique_ptr<relay::smtp::Session> take(const std::string& key);
  // Keeps session for the next message to key, or closes it when it has done enough.
  void put(const std::string& key, std::unique_ptr<relay::smtp::Session> session);
  void close_all();
  // Closes the sessions idle longer than the idle limit (between passes of --loop).
  void close_idle();

  void count_opened() { ++opened_; }
  uint64_t opened() const { return opened_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Idle {
    std::unique_ptr<relay::smtp::Session> session;
    Clock::time_point since;
  };
  int max_per_connection_;
  std::chrono::milliseconds idle_limit_;
  std::mutex mutex_;
  std::map<std::string, std::vector<Idle>> idle_;
  std::atomic<uint64_t> opened_{0};
};

// At most limit deliveries at once to one destination; the others wait their turn.
class DestinationSlots {
 public:
  explicit DestinationSlots(int limit) : limit_(limit) {}
  void acquire(const std::string& key);
  void release(const std::string& key);

 private:
  int limit_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::map<std::string, int> busy_;
};

class SlotGuard {
 public:
  SlotGuard(DestinationSlots& slots, std::string key) : slots_(slots), key_(std::move(key)) { slots_.acquire(key_); }
  ~SlotGuard() { slots_.release(key_); }
  SlotGuard(const SlotGuard&) = delete;
  SlotGuard& operator=(const SlotGuard&) = delete;

 private:
  DestinationSlots& slots_;
  std::string key_;
};

}  // namespace mxdeliver
