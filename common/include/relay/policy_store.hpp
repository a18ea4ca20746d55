#pragma once
// Where relay-policy keeps state that outlives a process: rate-limit counters (GCRA, one time
// per counter, no history) and the suppression list. Behind two small interfaces so a shared
// network store can replace the embedded LMDB one for several relay hosts.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace relay::policy {

// The store is missing, corrupt or failing: checks answer 451 4.3.0 (or accept when fail-open).
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr int64_t kNanos = 1000000000;

// One rate window: at most limit per window seconds, key names what is counted.
struct Counter {
  std::string key;
  int64_t limit = 0;
  int64_t window = 0;  // seconds
  int64_t cost = 1;
};

// One GCRA step. tat (theoretical arrival time) and now in nanoseconds since the epoch; tat 0
// means the counter was never used.
struct GcraStep {
  bool allowed = false;
  bool never = false;       // cost is more than the whole window holds: waiting cannot help
  int64_t tat = 0;          // the new tat when allowed
  int64_t retry_after = 0;  // nanoseconds until it would be allowed
};
GcraStep gcra_step(int64_t tat, int64_t now, int64_t limit, int64_t window, int64_t cost);
// How much of the window is in use at now (0..limit).
int64_t gcra_used(int64_t tat, int64_t now, int64_t limit, int64_t window);

struct TakeResult {
  bool allowed = true;
  size_t refused = 0;  // index of the counter that refused
  GcraStep step;       // that counter's step
};

class RateStore {
 public:
  virtual ~RateStore() = default;
  // Atomically over all counters: when each has room for its cost, takes it from every one
  // (only when commit; otherwise just looks); else changes nothing. Throws StoreError.
  virtual TakeResult take(const std::vector<Counter>& counters, int64_t now, bool commit) = 0;
  // The stored tat of each key (0 when never used). Throws StoreError.
  virtual std::vector<int64_t> read(const std::vector<std::string>& keys) = 0;
};

struct Suppression {
  std::string entry;    // "user@example.com" or "example.com" (a whole domain), lower case
  std::string reason;   // one line
  int64_t added = 0;    // seconds since the epoch
  int64_t expires = 0;  // 0: never
};

class SuppressionList {
 public:
  virtual ~SuppressionList() = default;
  // The entry that suppresses address (its own, else its domain's), unless expired at now.
  virtual std::optional<Suppression> find(const std::string& address, int64_t now) = 0;
  // Adds or replaces entries; durable on disk when it returns.
  virtual void add(const std::vector<Suppression>& entries) = 0;
  // Removes entries; returns how many existed.
  virtual size_t remove(const std::vector<std::string>& entries) = 0;
  virtual std::vector<Suppression> list() = 0;
};

inline constexpr uint64_t kDefaultStoreSize = uint64_t{256} << 20;  // about two million counters
inline constexpr uint64_t kMinStoreSize = uint64_t{1} << 20;

// The embedded store: an LMDB environment in a directory, shared by every process using it.
class LmdbStore final : public RateStore, public SuppressionList {
 public:
  // Opens an existing store; throws StoreError when it is missing or not a valid store. A
  // process has one handle per directory (LMDB's rule: a second open in the same process
  // would drop its file locks when closed), shared by every caller; a forked child gets its
  // own, since a handle must not cross fork().
  static std::shared_ptr<LmdbStore> open(const std::string& dir);
  // Creates the store (and the directory, mode 0700) with room for size bytes, all reserved on
  // disk; force first removes a broken one. On an existing store, sets its size.
  static void create(const std::string& dir, bool force, uint64_t size = kDefaultStoreSize);
  ~LmdbStore() override;

  // True in a child forked after this handle was opened: the child must open its own.
  bool inherited() const;

  TakeResult take(const std::vector<Counter>& counters, int64_t now, bool commit) override;
  std::vector<int64_t> read(const std::vector<std::string>& keys) override;
  std::optional<Suppression> find(const std::string& address, int64_t now) override;
  void add(const std::vector<Suppression>& entries) override;
  size_t remove(const std::vector<std::string>& entries) override;
  std::vector<Suppression> list() override;

  // Deletes counters with nothing left in their window and expired suppressions; returns the
  // numbers deleted.
  std::pair<size_t, size_t> purge(int64_t now);

  struct Env;

 private:
  explicit LmdbStore(std::unique_ptr<Env> env);
  std::unique_ptr<Env> env_;
  unsigned generation_;  // the process's fork count when opened
};

}  // namespace relay::policy
