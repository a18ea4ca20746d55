// The embedded policy store: one LMDB environment with two databases, "rate" (key -> tat, 8
// bytes) and "suppress" (entry -> "added expires reason"). Counter commits skip fsync (see
// relay-policy.conf(5), The store); suppression changes are flushed before add/remove return.
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "relay/policy_store.hpp"

namespace relay::policy {

struct LmdbStore::Env {
  MDB_env* env = nullptr;
  MDB_dbi rate = 0;
  MDB_dbi suppress = 0;
  std::string dir;
  ~Env() {
    if (env) mdb_env_close(env);
  }
};

namespace {

constexpr unsigned kMaxReaders = 1024;
constexpr size_t kMaxKey = 511;  // LMDB's default key size limit

// Forks of this process (pthread_atfork), so a child can tell an inherited handle from its own
// without a getpid() system call per check.
std::atomic<unsigned> fork_count{0};

[[noreturn]] void fail(const std::string& dir, const std::string& what, int rc) {
  throw StoreError("policy store " + dir + ": " + what + ": " + mdb_strerror(rc));
}

// A transaction that aborts unless committed.
class Txn {
 public:
  Txn(LmdbStore::Env& env, bool write) : env_(env) {
    int rc = mdb_txn_begin(env.env, nullptr, write ? 0 : MDB_RDONLY, &txn_);
    if (rc != 0) fail(env.dir, "unable to begin a transaction", rc);
  }
  ~Txn() {
    if (txn_) mdb_txn_abort(txn_);
  }
  void commit() {
    int rc = mdb_txn_commit(txn_);
    txn_ = nullptr;
    if (rc != 0) fail(env_.dir, "unable to commit", rc);
  }
  MDB_txn* get() { return txn_; }

 private:
  LmdbStore::Env& env_;
  MDB_txn* txn_ = nullptr;
};

MDB_val val_of(std::string_view text) {
  return MDB_val{text.size(), const_cast<char*>(text.data())};
}

// Counter keys longer than LMDB allows are cut: they only come from absurdly long names, and a
// shared counter among such names errs on the side of counting more.
std::string_view key_of(const std::string& key) {
  return std::string_view(key).substr(0, kMaxKey);
}

int64_t read_tat(LmdbStore::Env& env, MDB_txn* txn, const std::string& key) {
  MDB_val k = val_of(key_of(key)), v;
  int rc = mdb_get(txn, env.rate, &k, &v);
  if (rc == MDB_NOTFOUND) return 0;
  if (rc != 0) fail(env.dir, "unable to read counter", rc);
  if (v.mv_size != sizeof(int64_t)) throw StoreError("policy store " + env.dir + ": corrupt counter value");
  int64_t tat;
  std::memcpy(&tat, v.mv_data, sizeof tat);
  return tat;
}

std::string encode(const Suppression& s) {
  return std::to_string(s.added) + " " + std::to_string(s.expires) + " " + s.reason;
}

Suppression decode(std::string_view key, std::string_view value) {
  Suppression s;
  s.entry = std::string(key);
  size_t sp1 = value.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : value.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) throw StoreError("corrupt suppression entry for " + s.entry);
  std::from_chars(value.data(), value.data() + sp1, s.added);
  std::from_chars(value.data() + sp1 + 1, value.data() + sp2, s.expires);
  s.reason = std::string(value.substr(sp2 + 1));
  return s;
}

std::string_view as_view(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

// With MDB_WRITEMAP a write into a hole of a sparse file on a full disk is SIGBUS, not an
// error: the whole map gets its blocks up front, so a full disk fails the open instead.
void reserve_map(LmdbStore::Env& env, const std::string& data) {
  MDB_envinfo info;
  int rc = mdb_env_info(env.env, &info);
  if (rc != 0) fail(env.dir, "unable to read the map size", rc);
  uint64_t size = info.me_mapsize;
  struct stat st;
  if (::stat(data.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_blocks) * 512 >= size) return;
  int fd = ::open(data.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) throw StoreError("policy store " + env.dir + ": unable to open data.mdb: " + std::strerror(errno));
  int err = ::posix_fallocate(fd, 0, static_cast<off_t>(size));
  ::close(fd);
  if (err != 0)
    throw StoreError("policy store " + env.dir + ": unable to reserve " + std::to_string(size >> 20) +
                     " MiB for data.mdb: " + std::strerror(err));
}

// size 0 keeps the size the store was created with.
std::unique_ptr<LmdbStore::Env> open_env(const std::string& dir, bool create, uint64_t size) {
  struct stat st;
  std::string data = dir + "/data.mdb";
  if (!create) {
    if (::stat(data.c_str(), &st) != 0)
      throw StoreError("policy store " + dir + " is missing (" + std::strerror(errno) +
                       "); create it with relay-policy init");
    // LMDB would silently start an empty file afresh, losing the suppression list.
    if (st.st_size == 0) throw StoreError("policy store " + dir + ": data.mdb is empty");
  }
  auto env = std::make_unique<LmdbStore::Env>();
  env->dir = dir;
  int rc = mdb_env_create(&env->env);
  if (rc != 0) fail(dir, "unable to create environment", rc);
  mdb_env_set_maxdbs(env->env, 2);
  if (size != 0) mdb_env_set_mapsize(env->env, size);
  mdb_env_set_maxreaders(env->env, kMaxReaders);
  // MDB_WRITEMAP: commits write pages in the map instead of write(2)ing copies, three times
  // cheaper here; as safe against a killed process, since pages are still copied on write.
  rc = mdb_env_open(env->env, dir.c_str(), MDB_NOSYNC | MDB_WRITEMAP | MDB_NOTLS, 0600);
  if (rc != 0) fail(dir, "unable to open", rc);
  reserve_map(*env, data);
  // A file shorter than the pages its meta page names is cut short: reading those pages would
  // fault, or (MDB_WRITEMAP extends the file) find zeros. st is the size before the open.
  MDB_envinfo info;
  MDB_stat stat;
  if (!create && mdb_env_info(env->env, &info) == 0 && mdb_env_stat(env->env, &stat) == 0 &&
      static_cast<uint64_t>(st.st_size) < (static_cast<uint64_t>(info.me_last_pgno) + 1) * stat.ms_psize)
    throw StoreError("policy store " + dir + ": data.mdb is truncated");
  // Reader slots of processes that died (SIGKILL) would otherwise pin old pages for ever.
  int dead = 0;
  mdb_reader_check(env->env, &dead);

  Txn txn(*env, create);
  unsigned flags = create ? MDB_CREATE : 0;
  rc = mdb_dbi_open(txn.get(), "rate", flags, &env->rate);
  if (rc != 0) fail(dir, "unable to open the rate database", rc);
  rc = mdb_dbi_open(txn.get(), "suppress", flags, &env->suppress);
  if (rc != 0) fail(dir, "unable to open the suppression database", rc);
  txn.commit();
  return env;
}

void sync(LmdbStore::Env& env) {
  int rc = mdb_env_sync(env.env, 1);
  if (rc != 0) fail(env.dir, "unable to flush to disk", rc);
}

}  // namespace

LmdbStore::LmdbStore(std::unique_ptr<Env> env)
    : env_(std::move(env)), generation_(fork_count.load(std::memory_order_relaxed)) {}

LmdbStore::~LmdbStore() {
  // The parent's environment is not the child's to close.
  if (inherited()) (void)env_.release();
}

bool LmdbStore::inherited() const { return generation_ != fork_count.load(std::memory_order_relaxed); }

std::shared_ptr<LmdbStore> LmdbStore::open(const std::string& dir) {
  static std::once_flag registered;
  std::call_once(registered, [] { ::pthread_atfork(nullptr, nullptr, [] { fork_count.fetch_add(1); }); });
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<LmdbStore>> open_stores;
  char resolved[PATH_MAX];
  std::string key = ::realpath(dir.c_str(), resolved) ? resolved : dir;
  std::lock_guard lock(mutex);
  if (auto it = open_stores.find(key); it != open_stores.end())
    if (auto store = it->second.lock(); store && !store->inherited()) return store;
  auto store = std::shared_ptr<LmdbStore>(new LmdbStore(open_env(dir, false, 0)));
  open_stores[key] = store;
  return store;
}

void LmdbStore::create(const std::string& dir, bool force, uint64_t size) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw StoreError("unable to create policy store directory " + dir + ": " + std::strerror(errno));
  if (force) {
    for (const char* name : {"/data.mdb", "/lock.mdb"}) {
      std::string path = dir + name;
      if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        throw StoreError("unable to remove " + path + ": " + std::strerror(errno));
    }
  }
  if (size < kMinStoreSize) throw StoreError("store size below 1 MiB");
  auto env = open_env(dir, true, size);
  sync(*env);
}

TakeResult LmdbStore::take(const std::vector<Counter>& counters, int64_t now, bool commit) {
  TakeResult result;
  Txn txn(*env_, commit);
  std::vector<int64_t> tats(counters.size());
  for (size_t i = 0; i < counters.size(); ++i) {
    const Counter& c = counters[i];
    GcraStep step = gcra_step(read_tat(*env_, txn.get(), c.key), now, c.limit, c.window, c.cost);
    if (!step.allowed) {
      result.allowed = false;
      result.refused = i;
      result.step = step;
      return result;
    }
    tats[i] = step.tat;
  }
  if (!commit) return result;
  for (size_t i = 0; i < counters.size(); ++i) {
    MDB_val k = val_of(key_of(counters[i].key));
    MDB_val v{sizeof(int64_t), &tats[i]};
    int rc = mdb_put(txn.get(), env_->rate, &k, &v, 0);
    if (rc != 0) fail(env_->dir, "unable to write counter", rc);
  }
  txn.commit();
  return result;
}

std::vector<int64_t> LmdbStore::read(const std::vector<std::string>& keys) {
  Txn txn(*env_, false);
  std::vector<int64_t> out;
  out.reserve(keys.size());
  for (const auto& key : keys) out.push_back(read_tat(*env_, txn.get(), key));
  return out;
}

std::optional<Suppression> LmdbStore::find(const std::string& address, int64_t now) {
  Txn txn(*env_, false);
  auto lookup = [&](std::string_view key) -> std::optional<Suppression> {
    if (key.empty() || key.size() > kMaxKey) return std::nullopt;
    MDB_val k = val_of(key), v;
    int rc = mdb_get(txn.get(), env_->suppress, &k, &v);
    if (rc == MDB_NOTFOUND) return std::nullopt;
    if (rc != 0) fail(env_->dir, "unable to read the suppression list", rc);
    Suppression s = decode(key, as_view(v));
    if (s.expires != 0 && s.expires <= now) return std::nullopt;
    return s;
  };
  if (auto own = lookup(address)) return own;
  size_t at = address.rfind('@');
  if (at == std::string::npos) return std::nullopt;
  return lookup(std::string_view(address).substr(at + 1));
}

void LmdbStore::add(const std::vector<Suppression>& entries) {
  Txn txn(*env_, true);
  for (const auto& s : entries) {
    if (s.entry.empty() || s.entry.size() > kMaxKey) throw StoreError("suppression entry too long: " + s.entry);
    std::string value = encode(s);
    MDB_val k = val_of(s.entry), v = val_of(value);
    int rc = mdb_put(txn.get(), env_->suppress, &k, &v, 0);
    if (rc != 0) fail(env_->dir, "unable to add to the suppression list", rc);
  }
  txn.commit();
  sync(*env_);
}

size_t LmdbStore::remove(const std::vector<std::string>& entries) {
  Txn txn(*env_, true);
  size_t removed = 0;
  for (const auto& entry : entries) {
    if (entry.empty() || entry.size() > kMaxKey) continue;
    MDB_val k = val_of(entry);
    int rc = mdb_del(txn.get(), env_->suppress, &k, nullptr);
    if (rc == 0) ++removed;
    else if (rc != MDB_NOTFOUND) fail(env_->dir, "unable to remove from the suppression list", rc);
  }
  txn.commit();
  sync(*env_);
  return removed;
}

std::vector<Suppression> LmdbStore::list() {
  Txn txn(*env_, false);
  MDB_cursor* cursor = nullptr;
  int rc = mdb_cursor_open(txn.get(), env_->suppress, &cursor);
  if (rc != 0) fail(env_->dir, "unable to read the suppression list", rc);
  std::vector<Suppression> out;
  MDB_val k, v;
  for (rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT))
    out.push_back(decode(as_view(k), as_view(v)));
  mdb_cursor_close(cursor);
  if (rc != MDB_NOTFOUND) fail(env_->dir, "unable to read the suppression list", rc);
  return out;
}

std::pair<size_t, size_t> LmdbStore::purge(int64_t now) {
  Txn txn(*env_, true);
  size_t counters = 0, suppressions = 0;
  MDB_cursor* cursor = nullptr;
  MDB_val k, v;
  int rc = mdb_cursor_open(txn.get(), env_->rate, &cursor);
  if (rc != 0) fail(env_->dir, "unable to purge", rc);
  for (rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
    int64_t tat = 0;
    if (v.mv_size == sizeof tat) std::memcpy(&tat, v.mv_data, sizeof tat);
    if (tat <= now * kNanos && mdb_cursor_del(cursor, 0) == 0) ++counters;
  }
  mdb_cursor_close(cursor);
  rc = mdb_cursor_open(txn.get(), env_->suppress, &cursor);
  if (rc != 0) fail(env_->dir, "unable to purge", rc);
  for (rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
    Suppression s = decode(as_view(k), as_view(v));
    if (s.expires != 0 && s.expires <= now && mdb_cursor_del(cursor, 0) == 0) ++suppressions;
  }
  mdb_cursor_close(cursor);
  txn.commit();
  sync(*env_);
  return {counters, suppressions};
}

}  // namespace relay::policy
