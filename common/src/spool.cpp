#include "relay/spool.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "relay/headers.hpp"
#include "relay/log.hpp"

namespace relay {
namespace {

constexpr const char* kStageNames[] = {"tmp", "incoming", "outgoing", "active", "deferred", "hold", "failed", "sent"};
constexpr size_t kEnvelopeReadChunk = 4096;  // a page: most envelopes fit in one
constexpr size_t kClaimReadWhole = 256 << 10;  // a claim reads files up to this size with one pread
constexpr size_t kMaxEnvelope = 16 << 20;  // a recipient list of ~200k addresses
constexpr size_t kWriterBuffer = 64 << 10;
// A streamed message's size is not known until its end: the writer puts this 15-digit
// placeholder in the envelope and overwrites it, zero-padded to the same width, at commit.
constexpr uint64_t kSizePlaceholder = 100000000000000;
constexpr int kSizeWidth = 15;

[[noreturn]] void fail_io(const std::string& what, int err) {
  if (is_space_error(err)) throw SpoolFull(what + ": " + std::strerror(err));
  fail_errno(what, err);
}

void close_quietly(int fd) {
  if (fd >= 0) ::close(fd);
}

// Writes every byte of the parts, in order; throws on error.
void write_parts(int fd, const std::array<std::string_view, 3>& parts, const std::string& what) {
  iovec iov[3];
  size_t count = 0;
  for (std::string_view part : parts)
    if (!part.empty()) iov[count++] = {const_cast<char*>(part.data()), part.size()};
  size_t first = 0;
  while (first < count) {
    ssize_t n = ::writev(fd, iov + first, static_cast<int>(count - first));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_io("unable to write " + what, errno);
    }
    size_t left = static_cast<size_t>(n);
    while (first < count && left >= iov[first].iov_len) {
      left -= iov[first].iov_len;
      ++first;
    }
    if (first < count) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
}

std::string read_from(int fd, off_t offset, const std::string& what) {
  struct stat st {};
  if (fstat(fd, &st) != 0) fail_errno("unable to stat " + what, errno);
  std::string data(static_cast<size_t>(std::max<off_t>(st.st_size - offset, 0)), '\0');
  size_t got = 0;
  while (got < data.size()) {
    ssize_t n = ::pread(fd, data.data() + got, data.size() - got, offset + static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno("unable to read " + what, errno);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  data.resize(got);
  return data;
}

// The start of an open spool file: its envelope, where the message begins, and the bytes read.
struct FileHead {
  Envelope envelope;
  size_t body_offset = 0;
  std::string data;  // from offset 0; holds the whole file when first_read covered it
};

// Reads first_read bytes, then a page at a time until the end of the envelope.
FileHead read_head(int fd, size_t first_read, const std::string& what) {
  FileHead head;
  std::string& data = head.data;
  size_t chunk = first_read;
  for (;;) {
    size_t old = data.size();
    data.resize(old + chunk);
    ssize_t n = ::pread(fd, data.data() + old, chunk, static_cast<off_t>(old));
    if (n < 0 && errno == EINTR) {
      data.resize(old);
      continue;
    }
    if (n < 0) fail_errno("unable to read " + what, errno);
    data.resize(old + static_cast<size_t>(n));
    size_t end = envelope_end(data);
    if (end != std::string::npos) {
      head.envelope = parse_envelope(std::string_view(data).substr(0, end));
      head.body_offset = end;
      return head;
    }
    if (n == 0 || data.size() > kMaxEnvelope)
      throw Failure(kExitData, "unable to read envelope of " + what + ": no end of envelope");
    chunk = kEnvelopeReadChunk;
  }
}

// Reads the envelope at the start of an open spool file: (envelope, message offset).
// Most envelopes fit a page: that one is read onto the stack, with no string for the head.
std::pair<Envelope, size_t> read_envelope_fd(int fd, const std::string& what) {
  char page[kEnvelopeReadChunk];
  ssize_t n;
  do {
    n = ::pread(fd, page, sizeof page, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) fail_errno("unable to read " + what, errno);
  std::string_view first(page, static_cast<size_t>(n));
  size_t end = envelope_end(first);
  if (end != std::string_view::npos) return {parse_envelope(first.substr(0, end)), end};
  FileHead head = read_head(fd, kEnvelopeReadChunk, what);
  return {std::move(head.envelope), head.body_offset};
}

// A file whose envelope records a size must hold exactly that many message bytes: after a
// crash, a file renamed before its data reached the disk shows up short (see relay-spool(5)).
void check_complete(const Envelope& envelope, size_t body_offset, uint64_t file_size, const std::string& what) {
  if (envelope.size == 0 || file_size == body_offset + envelope.size) return;
  throw Failure(kExitData, "unable to read " + what + ": incomplete, " + std::to_string(file_size - body_offset) +
                               " of " + std::to_string(envelope.size) + " message bytes");
}

uint64_t file_size_of(int fd, const std::string& what) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail_errno("unable to stat " + what, errno);
  return static_cast<uint64_t>(st.st_size);
}

void fill_times(SpoolEntry& entry, const struct stat& st) {
  entry.mtime = st.st_mtim.tv_sec;
  entry.ctime = st.st_ctim.tv_sec;
  entry.size = st.st_size;
}

std::string sanitize_host(std::string host) {
  for (char& c : host)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') c = '-';
  while (!host.empty() && host.front() == '.') host.erase(0, 1);
  return host.empty() ? "localhost" : host;
}

void set_mtime(int fd, int64_t mtime, const std::string& what) {
  timespec times[2] = {{0, UTIME_NOW}, {static_cast<time_t>(mtime), 0}};
  if (futimens(fd, times) != 0) fail_errno("unable to set next-attempt time of " + what, errno);
}

}  // namespace

std::string_view to_string(Stage stage) { return kStageNames[static_cast<int>(stage)]; }

std::optional<Stage> parse_stage(std::string_view name) {
  for (Stage s : kAllStages)
    if (to_string(s) == name) return s;
  return std::nullopt;
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 200 || id.front() == '.') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

// ---- Spool ------------------------------------------------------------------------------

Spool::Spool(std::string root) : root_(std::move(root)), host_(sanitize_host(local_hostname())) {
  const char* sync_mode = std::getenv("RELAY_SPOOL_SYNC");
  sync_directories_ = sync_mode != nullptr && std::string_view(sync_mode) == "directory";
  std::fill(std::begin(dir_fds_), std::end(dir_fds_), -1);
  for (Stage s : kAllStages) {
    std::string dir = root_ + "/" + std::string(to_string(s));
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      for (int& d : dir_fds_) close_quietly(d);
      if (err == ENOENT)
        throw Failure(kExitTemporary, "unable to open spool " + root_ + ": " + dir +
                                          " does not exist (create it with spool-ctl init)");
      fail_errno("unable to open spool directory " + dir, err);
    }
    dir_fds_[static_cast<int>(s)] = fd;
  }
}

Spool::~Spool() {
  for (int fd : dir_fds_) close_quietly(fd);
}

void Spool::create(const std::string& root) {
  if (::mkdir(root.c_str(), 0770) != 0 && errno != EEXIST) fail_errno("unable to create spool " + root, errno);
  for (Stage s : kAllStages) {
    std::string dir = root + "/" + std::string(to_string(s));
    if (::mkdir(dir.c_str(), 0770) != 0 && errno != EEXIST) fail_errno("unable to create " + dir, errno);
  }
}

std::string Spool::path(Stage stage, std::string_view name) const {
  return root_ + "/" + std::string(to_string(stage)) + "/" + std::string(name);
}

std::string Spool::new_id(Timestamp now) {
  static std::atomic<uint64_t> counter{0};
  char buf[96];
  std::snprintf(buf, sizeof buf, "%010lld.%06d.%d_%llu.", static_cast<long long>(now.seconds), now.micros,
                static_cast<int>(::getpid()), static_cast<unsigned long long>(counter++));
  return buf + host_;
}

void Spool::sync(Stage stage) const {
  if (::fsync(dir_fd(stage)) != 0) fail_io("unable to sync spool directory " + std::string(to_string(stage)), errno);
}

int Spool::write_tmp(const std::string& name, std::string_view envelope_text, std::string_view prefix,
                     std::string_view message, bool lock, bool remove_stale) {
  int fd = ::openat(dir_fd(Stage::kTmp), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0 && errno == EEXIST && remove_stale && ::unlinkat(dir_fd(Stage::kTmp), name.c_str(), 0) == 0)
    fd = ::openat(dir_fd(Stage::kTmp), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) fail_io("unable to create " + path(Stage::kTmp, name), errno);
  try {
    if (lock && ::flock(fd, LOCK_EX | LOCK_NB) != 0) fail_errno("unable to lock " + path(Stage::kTmp, name), errno);
    write_parts(fd, {envelope_text, prefix, message}, path(Stage::kTmp, name));
  } catch (...) {
    ::unlinkat(dir_fd(Stage::kTmp), name.c_str(), 0);
    ::close(fd);
    throw;
  }
  return fd;
}

void Spool::publish(const std::string& tmp_name, Stage stage, const std::string& name, int64_t mtime, int fd,
                    bool fresh) {
  try {
    if (mtime != 0) set_mtime(fd, mtime, tmp_name);
    if (sync_directories_ && ::fsync(fd) != 0) fail_io("unable to sync " + path(Stage::kTmp, tmp_name), errno);
    if (::renameat(dir_fd(Stage::kTmp), tmp_name.c_str(), dir_fd(stage), name.c_str()) != 0)
      fail_io("unable to move " + tmp_name + " into " + std::string(to_string(stage)), errno);
  } catch (...) {
    ::unlinkat(dir_fd(Stage::kTmp), tmp_name.c_str(), 0);
    throw;
  }
  if (sync_directories_) {
    sync(stage);
    return;
  }
  // One fsync of the file commits its data and, in the same journal transaction, the rename
  // (ext4, XFS, btrfs): relay-spool(5), DURABILITY.
  if (::fsync(fd) != 0) {
    int err = errno;
    // A new message that may not be on disk is taken back: its sender is told to try again,
    // and a copy left behind would be delivered twice. A rewrite keeps the only copy.
    if (fresh) ::unlinkat(dir_fd(stage), name.c_str(), 0);
    fail_io("unable to sync " + path(stage, name), err);
  }
}

std::string Spool::deposit(Stage stage, Envelope envelope, std::string_view message, int64_t mtime) {
  Timestamp now = Clock().now();
  if (envelope.id.empty()) envelope.id = new_id(now);
  if (envelope.arrival == 0) envelope.arrival = now.seconds;
  envelope.size = message.size();
  std::string text = serialize(envelope);
  int fd = write_tmp(envelope.id, text, "", message, true);
  try {
    publish(envelope.id, stage, envelope.id, mtime, fd, true);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return envelope.id;
}

std::optional<Claim> Spool::claim(Stage from, const std::string& id) {
  if (!valid_id(id)) throw Failure(kExitData, "unable to claim message: invalid queue id '" + log::sanitize(id) + "'");
  // Read-only is enough to lock and read: a claimer need not be the writer of the file.
  int fd = ::openat(dir_fd(from), id.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    fail_errno("unable to open " + path(from, id), errno);
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return std::nullopt;  // another process holds it
  }
  std::string active = id + ":" + std::string(to_string(from));
  if (::renameat(dir_fd(from), id.c_str(), dir_fd(Stage::kActive), active.c_str()) != 0) {
    int err = errno;
    ::close(fd);
    if (err == ENOENT) return std::nullopt;  // moved on by its previous holder
    fail_errno("unable to claim " + path(from, id), err);
  }
  // The file we locked may have been replaced between open and rename (its holder rewrote
  // it and put it back): then lock what we really moved.
  struct stat locked {}, moved {};
  if (fstat(fd, &locked) != 0 || fstatat(dir_fd(Stage::kActive), active.c_str(), &moved, 0) != 0 ||
      locked.st_ino != moved.st_ino) {
    ::close(fd);
    fd = ::openat(dir_fd(Stage::kActive), active.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::flock(fd, LOCK_EX | LOCK_NB) != 0 || ::fstat(fd, &locked) != 0) {
      close_quietly(fd);
      return std::nullopt;
    }
  }
  try {
    // Files are replaced, never changed in place, and ours is locked: its size stays as
    // stat saw it, so a small file is read whole at once and message() costs no syscall.
    const uint64_t size = static_cast<uint64_t>(locked.st_size);
    const std::string what = path(Stage::kActive, active);
    FileHead head = read_head(fd, size <= kClaimReadWhole ? size : kEnvelopeReadChunk, what);
    check_complete(head.envelope, head.body_offset, size, what);
    std::optional<std::string> message;
    if (head.data.size() == size) message = head.data.substr(head.body_offset);
    return Claim(*this, id, from, fd, std::move(head.envelope), head.body_offset, std::move(message));
  } catch (const Failure& e) {
    // An unreadable envelope must not block the stage or be delivered: park it in hold/.
    ::renameat(dir_fd(Stage::kActive), active.c_str(), dir_fd(Stage::kHold), id.c_str());
    ::close(fd);
    throw Failure(kExitData, std::string(e.what()) + "; moved to hold/");
  }
}

void Spool::scan(Stage stage, const std::function<void(const SpoolEntry&)>& visit, bool with_stat) const {
  int fd = ::openat(dir_fd(stage), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail_errno("unable to open " + path(stage, ""), errno);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    fail_errno("unable to read " + path(stage, ""), errno);
  }
  try {
    while (dirent* d = ::readdir(dir)) {
      std::string_view name = d->d_name;
      if (name.empty() || name[0] == '.') continue;
      SpoolEntry entry{.id = std::string(name), .stage = stage};
      if (stage == Stage::kActive) {
        size_t colon = name.rfind(':');
        auto origin = colon == std::string_view::npos ? std::nullopt : parse_stage(name.substr(colon + 1));
        if (!origin) continue;
        entry.id = std::string(name.substr(0, colon));
        entry.origin = *origin;
      }
      if (!with_stat && d->d_type == DT_REG) {
        visit(entry);
        continue;
      }
      struct stat st {};
      if (::fstatat(dir_fd(stage), d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
      fill_times(entry, st);
      visit(entry);
    }
  } catch (...) {
    ::closedir(dir);
    throw;
  }
  ::closedir(dir);
}

std::vector<SpoolEntry> Spool::list(Stage stage, bool with_stat) const {
  std::vector<SpoolEntry> entries;
  scan(stage, [&](const SpoolEntry& e) { entries.push_back(e); }, with_stat);
  std::sort(entries.begin(), entries.end(), [](const SpoolEntry& a, const SpoolEntry& b) { return a.id < b.id; });
  return entries;
}

int Spool::open_entry(Stage stage, const std::string& name) const {
  if (!valid_id(name) && stage != Stage::kActive) return -1;
  // No access-time update: in deferred/ the mtime lies in the future, so relatime would
  // write every inode that a listing reads. Only the owner (or root) may ask for that.
  // A reader that owns none of the files learns that once, not at every open.
  static std::atomic<bool> noatime_refused{false};
  int fd = -1;
  if (!noatime_refused.load(std::memory_order_relaxed)) {
    fd = ::openat(dir_fd(stage), name.c_str(), O_RDONLY | O_CLOEXEC | O_NOATIME);
    if (fd < 0 && errno == EPERM) noatime_refused.store(true, std::memory_order_relaxed);
  }
  if (noatime_refused.load(std::memory_order_relaxed)) fd = ::openat(dir_fd(stage), name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno != ENOENT) fail_errno("unable to open " + path(stage, name), errno);
  return fd;
}

std::optional<Envelope> Spool::read_envelope(Stage stage, const std::string& id) const {
  int fd = open_entry(stage, id);
  if (fd < 0) return std::nullopt;
  try {
    auto envelope = read_envelope_fd(fd, path(stage, id)).first;
    ::close(fd);
    return envelope;
  } catch (...) {
    ::close(fd);
    throw;
  }
}

std::string SpoolEntry::file_name() const {
  return stage == Stage::kActive ? id + ":" + std::string(to_string(origin)) : id;
}

std::optional<Envelope> Spool::read_envelope(SpoolEntry& entry) const {
  std::string name = entry.file_name();
  int fd = open_entry(entry.stage, name);
  if (fd < 0) return std::nullopt;
  try {
    struct stat st {};
    if (::fstat(fd, &st) != 0) fail_errno("unable to stat " + path(entry.stage, name), errno);
    fill_times(entry, st);
    auto envelope = read_envelope_fd(fd, path(entry.stage, name)).first;
    ::close(fd);
    return envelope;
  } catch (...) {
    ::close(fd);
    throw;
  }
}

std::optional<LoadedMessage> Spool::load(Stage stage, const std::string& id) const {
  int fd = open_entry(stage, id);
  if (fd < 0) return std::nullopt;
  std::string data;
  try {
    data = read_from(fd, 0, path(stage, id));
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  size_t end = envelope_end(data);
  if (end == std::string::npos) throw Failure(kExitData, "unable to read " + path(stage, id) + ": no end of envelope");
  Envelope envelope = parse_envelope(std::string_view(data).substr(0, end));
  check_complete(envelope, end, data.size(), path(stage, id));
  return LoadedMessage{std::move(envelope), data.substr(end)};
}

std::optional<SpoolEntry> Spool::find(const std::string& id) const {
  if (!valid_id(id)) return std::nullopt;
  for (Stage s : kAllStages) {
    if (s == Stage::kTmp) continue;
    for (Stage origin : kAllStages) {
      std::string name = id;
      if (s == Stage::kActive) name += ":" + std::string(to_string(origin));
      struct stat st {};
      if (::fstatat(dir_fd(s), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
        return SpoolEntry{.id = id, .stage = s, .origin = s == Stage::kActive ? origin : Stage::kActive,
                          .mtime = st.st_mtim.tv_sec, .ctime = st.st_ctim.tv_sec, .size = st.st_size};
      if (s != Stage::kActive) break;
    }
  }
  return std::nullopt;
}

bool Spool::move(Stage from, const std::string& id, Stage to, int64_t mtime) {
  auto claim = this->claim(from, id);
  if (!claim) return false;
  claim->finish(to, mtime);
  return true;
}

bool Spool::remove(Stage stage, const std::string& id) {
  auto claim = this->claim(stage, id);
  if (!claim) return false;
  claim->remove();
  return true;
}

int Spool::recover_leases(int64_t now, int64_t lease) {
  std::vector<SpoolEntry> stale;
  scan(Stage::kActive, [&](const SpoolEntry& e) {
    if (e.ctime + lease <= now) stale.push_back(e);
  });
  int recovered = 0;
  for (const auto& e : stale) {
    std::string name = e.file_name();
    int fd = ::openat(dir_fd(Stage::kActive), name.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    // A live claimer holds the lock for as long as it works on the message.
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0 &&
        ::renameat(dir_fd(Stage::kActive), name.c_str(), dir_fd(e.origin), e.id.c_str()) == 0) {
      ++recovered;
      log::event({{"id", e.id}, {"status", "recovered"}, {"to", to_string(e.origin)}});
    }
    ::close(fd);
  }
  if (recovered > 0)
    for (Stage s : {Stage::kIncoming, Stage::kOutgoing, Stage::kDeferred}) sync(s);
  return recovered;
}

int Spool::purge_tmp(int64_t now, int64_t max_age) {
  std::vector<std::string> old;
  scan(Stage::kTmp, [&](const SpoolEntry& e) {
    if (e.mtime + max_age <= now) old.push_back(e.id);
  });
  int purged = 0;
  for (const auto& name : old) {
    int fd = ::openat(dir_fd(Stage::kTmp), name.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    // Writers lock their tmp file: a locked one is still being written.
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && ::unlinkat(dir_fd(Stage::kTmp), name.c_str(), 0) == 0) ++purged;
    ::close(fd);
  }
  return purged;
}

std::optional<LockedEntry> Spool::lock(Stage stage, const std::string& id) const {
  int fd = open_entry(stage, id);
  if (fd < 0) return std::nullopt;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  return LockedEntry(*this, stage, id, fd);
}

// ---- LockedEntry ------------------------------------------------------------------------

LockedEntry::LockedEntry(LockedEntry&& other) noexcept
    : spool_(other.spool_), stage_(other.stage_), id_(std::move(other.id_)), fd_(other.fd_) {
  other.fd_ = -1;
}

LockedEntry::~LockedEntry() { unlock(); }

void LockedEntry::unlock() {
  close_quietly(fd_);
  fd_ = -1;
}

int64_t LockedEntry::mtime() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) fail_errno("unable to stat " + spool_->path(stage_, id_), errno);
  return st.st_mtim.tv_sec;
}

Envelope LockedEntry::read_envelope() const {
  std::string what = spool_->path(stage_, id_);
  auto [envelope, offset] = read_envelope_fd(fd_, what);
  check_complete(envelope, offset, file_size_of(fd_, what), what);
  return envelope;
}

bool LockedEntry::move_to(Stage to) {
  if (::renameat(spool_->dir_fd(stage_), id_.c_str(), spool_->dir_fd(to), id_.c_str()) != 0) {
    if (errno == ENOENT) return false;
    fail_io("unable to move " + spool_->path(stage_, id_) + " to " + std::string(to_string(to)), errno);
  }
  unlock();
  return true;
}

void LockedEntry::set_mtime(int64_t next_attempt) { relay::set_mtime(fd_, next_attempt, id_); }

// ---- Spool::Writer ------------------------------------------------------------------------

Spool::Writer::Writer(Spool& spool, Envelope envelope) : spool_(&spool) {
  Timestamp now = Clock().now();
  if (envelope.id.empty()) envelope.id = spool.new_id(now);
  if (envelope.arrival == 0) envelope.arrival = now.seconds;
  id_ = envelope.id;
  envelope.size = kSizePlaceholder;
  buffer_ = serialize(envelope);
  size_offset_ = buffer_.find("\nsize=") + 6;
}

Spool::Writer::Writer(Writer&& other) noexcept
    : spool_(other.spool_), id_(std::move(other.id_)), fd_(other.fd_), closed_(other.closed_),
      buffer_(std::move(other.buffer_)), size_(other.size_), size_offset_(other.size_offset_) {
  other.fd_ = -1;
  other.closed_ = true;
}

Spool::Writer::~Writer() { abort(); }

void Spool::Writer::flush_buffer() {
  try {
    // The file is made at the first flush: a message that fits the buffer is created by
    // whoever completes it (smtp-listen: a worker thread, not its event loop), and creating a
    // file can be slow (ext4 searches for a free inode).
    if (fd_ < 0) {
      fd_ = ::openat(spool_->dir_fd(Stage::kTmp), id_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
      if (fd_ < 0) fail_io("unable to create " + spool_->path(Stage::kTmp, id_), errno);
      ::flock(fd_, LOCK_EX | LOCK_NB);
    }
    write_parts(fd_, {buffer_, {}, {}}, spool_->path(Stage::kTmp, id_));
  } catch (...) {
    abort();
    throw;
  }
  buffer_.clear();
}

void Spool::Writer::write(std::string_view chunk) {
  if (closed_) throw Failure(kExitTemporary, "unable to write message " + id_ + ": the writer was closed");
  size_ += chunk.size();
  buffer_.append(chunk);
  if (buffer_.size() >= kWriterBuffer) flush_buffer();
}

void Spool::Writer::complete() {
  if (closed_) throw Failure(kExitTemporary, "unable to commit message " + id_ + ": the writer was closed");
  flush_buffer();
  char digits[kSizeWidth + 1];
  std::snprintf(digits, sizeof digits, "%0*llu", kSizeWidth, static_cast<unsigned long long>(size_));
  if (::pwrite(fd_, digits, kSizeWidth, static_cast<off_t>(size_offset_)) != kSizeWidth) {
    int err = errno;
    abort();
    fail_io("unable to write " + spool_->path(Stage::kTmp, id_), err);
  }
}

int Spool::Writer::detach() {
  complete();
  int fd = fd_;
  fd_ = -1;
  closed_ = true;
  return fd;
}

void Spool::Writer::commit(Stage stage) {
  complete();
  try {
    spool_->publish(id_, stage, id_, 0, fd_, true);
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    closed_ = true;
    throw;
  }
  ::close(fd_);
  fd_ = -1;
  closed_ = true;
}

void Spool::Writer::abort() {
  if (closed_) return;
  closed_ = true;
  if (fd_ < 0) return;  // nothing was written yet
  ::unlinkat(spool_->dir_fd(Stage::kTmp), id_.c_str(), 0);
  ::close(fd_);
  fd_ = -1;
}

// ---- Claim ------------------------------------------------------------------------------

Claim::Claim(Spool& spool, std::string id, Stage origin, int fd, Envelope envelope, size_t body_offset,
             std::optional<std::string> message)
    : spool_(&spool), id_(std::move(id)), origin_(origin), fd_(fd), envelope_(std::move(envelope)),
      body_offset_(body_offset), message_(std::move(message)) {}

Claim::Claim(Claim&& other) noexcept
    : spool_(other.spool_), id_(std::move(other.id_)), origin_(other.origin_), fd_(other.fd_),
      envelope_(std::move(other.envelope_)), body_offset_(other.body_offset_), message_(std::move(other.message_)),
      open_(other.open_) {
  other.fd_ = -1;
  other.open_ = false;
}

Claim::~Claim() {
  if (open_) {
    try {
      release();
    } catch (const std::exception& e) {
      log::warning(std::string("unable to put message back (a later lease recovery will): ") + e.what());
    }
  }
  close_quietly(fd_);
}

std::string Claim::active_name() const { return id_ + ":" + std::string(to_string(origin_)); }

const std::string& Claim::message() {
  if (!message_) message_ = read_from(fd_, static_cast<off_t>(body_offset_), spool_->path(Stage::kActive, active_name()));
  return *message_;
}

void Claim::replace(const Envelope& envelope, std::string_view prefix, std::string_view message) {
  Envelope sized = envelope;
  sized.size = prefix.size() + message.size();
  std::string text = serialize(sized);
  std::string tmp_name = id_ + ".rewrite";
  // Locked before the rename: the claim never leaves its entry in active/ unlocked. A file of
  // that name was left by a claimer that died: the claim is ours now, so it is replaced.
  int fd = spool_->write_tmp(tmp_name, text, prefix, message, true, true);
  try {
    if (spool_->sync_directories_ && ::fsync(fd) != 0) fail_io("unable to sync " + spool_->path(Stage::kTmp, tmp_name), errno);
    if (::renameat(spool_->dir_fd(Stage::kTmp), tmp_name.c_str(), spool_->dir_fd(Stage::kActive), active_name().c_str()) != 0)
      fail_io("unable to move " + tmp_name + " into active", errno);
  } catch (...) {
    ::unlinkat(spool_->dir_fd(Stage::kTmp), tmp_name.c_str(), 0);
    ::close(fd);
    throw;
  }
  ::close(fd_);
  fd_ = fd;
  envelope_ = std::move(sized);
  message_.reset();
  body_offset_ = text.size();
}

void Claim::rewrite(const Envelope& envelope, std::string_view message) {
  replace(envelope, "", message);
  if (spool_->sync_directories_)
    spool_->sync(Stage::kActive);
  else if (::fsync(fd_) != 0)
    // The old file may come back after a crash: the claim's work is then done again.
    fail_io("unable to sync " + spool_->path(Stage::kActive, active_name()), errno);
  message_ = std::string(message);
}

void Claim::rewrite_envelope(const Envelope& envelope) {
  std::string body = message();
  rewrite(envelope, body);
}

void Claim::move_to(Stage to, int64_t next_attempt) {
  if (next_attempt != 0) set_mtime(fd_, next_attempt, id_);
  if (::renameat(spool_->dir_fd(Stage::kActive), active_name().c_str(), spool_->dir_fd(to), id_.c_str()) != 0)
    fail_io("unable to move " + id_ + " to " + std::string(to_string(to)), errno);
  open_ = false;
}

// Without RELAY_SPOOL_SYNC=directory, both renames and the new data are committed by one
// fsync of the file: a crash before it leaves the old file in active/ (it goes back after its
// lease), the new one in active/ or in to/, a short one being caught by its size
// (relay-spool(5), DURABILITY). The portable order syncs each directory on the way.
void Claim::finish(Stage to, const Envelope& envelope, std::string_view message, int64_t next_attempt) {
  finish_replaced(to, envelope, "", message, next_attempt);
}

void Claim::finish_prepended(Stage to, std::string_view prefix) {
  finish_replaced(to, envelope_, prefix, message(), 0);
}

void Claim::finish_replaced(Stage to, const Envelope& envelope, std::string_view prefix, std::string_view message,
                            int64_t next_attempt) {
  replace(envelope, prefix, message);
  if (spool_->sync_directories_) spool_->sync(Stage::kActive);
  finish(to, next_attempt);
}

void Claim::finish(Stage to, int64_t next_attempt) {
  move_to(to, next_attempt);
  if (spool_->sync_directories_) {
    spool_->sync(to);
  } else if (::fsync(fd_) != 0) {
    // The move may not survive a crash; the message then reappears in active/ and goes back.
    fail_io("unable to sync " + spool_->path(to, id_), errno);
  }
}

void Claim::release() {
  if (::renameat(spool_->dir_fd(Stage::kActive), active_name().c_str(), spool_->dir_fd(origin_), id_.c_str()) != 0)
    fail_errno("unable to put " + id_ + " back into " + std::string(to_string(origin_)), errno);
  open_ = false;
}

void Claim::remove() {
  if (::unlinkat(spool_->dir_fd(Stage::kActive), active_name().c_str(), 0) != 0)
    fail_errno("unable to remove " + id_, errno);
  open_ = false;
}

}  // namespace relay
