#include "deferred_index.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <limits>

#include "relay/exit_codes.hpp"

namespace spoolretry {

// The file starts with this header, then `count` slots; native byte order (a cache of this
// machine only). Any mismatch (magic, size) and the file is ignored: every file is stat'ed.
struct DeferredIndex::Header {
  char magic[8];
  int64_t stamp_seconds;  // deferred/'s mtime when a pass found nothing due, else 0
  int64_t stamp_nanos;
  int64_t next_due;       // earliest next attempt that pass saw
  uint64_t count;
};

namespace {

constexpr char kMagic[8] = {'R', 'T', 'R', 'Y', 'I', 'X', '0', '1'};
constexpr std::string_view kIndexName = "/.retry-index";

// FNV-1a with a splitmix64 finish; never 0 (the empty slot).
uint64_t name_hash(const char* name) {
  uint64_t h = 14695981039346656037ull;
  for (const char* p = name; *p; ++p) {
    h ^= static_cast<unsigned char>(*p);
    h *= 1099511628211ull;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h == 0 ? 1 : h;
}

bool read_exact(int fd, void* buf, size_t size) {
  char* out = static_cast<char*>(buf);
  while (size > 0) {
    ssize_t n = ::read(fd, out, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    out += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool write_exact(int fd, const void* buf, size_t size) {
  const char* in = static_cast<const char*>(buf);
  while (size > 0) {
    ssize_t n = ::write(fd, in, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    in += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

bool DeferredIndex::load(int64_t now) {
  int fd = ::open((spool_.root() + std::string(kIndexName)).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  Header header{};
  struct stat st {};
  bool ok = read_exact(fd, &header, sizeof header) && std::memcmp(header.magic, kMagic, sizeof kMagic) == 0 &&
            ::fstat(fd, &st) == 0 &&
            static_cast<uint64_t>(st.st_size) == sizeof header + header.count * sizeof(Slot);
  if (!ok) {
    ::close(fd);
    return false;
  }
  if (header.stamp_seconds != 0 && header.stamp_seconds == stamp_seconds_ && header.stamp_nanos == stamp_nanos_ &&
      now < header.next_due) {
    ::close(fd);
    return true;
  }
  std::vector<Slot> slots(header.count);
  if (!read_exact(fd, slots.data(), slots.size() * sizeof(Slot))) slots.clear();
  ::close(fd);
  size_t size = 16;
  while (size < slots.size() * 2) size *= 2;
  table_.assign(size, Slot{0, 0, 0});
  for (const Slot& s : slots) {
    if (s.name_hash == 0) continue;
    size_t i = s.name_hash & (size - 1);
    while (table_[i].name_hash != 0 && table_[i].name_hash != s.name_hash) i = (i + 1) & (size - 1);
    table_[i] = s;
  }
  return false;
}

const DeferredIndex::Slot* DeferredIndex::find(uint64_t hash) const {
  if (table_.empty()) return nullptr;
  size_t mask = table_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    if (table_[i].name_hash == hash) return &table_[i];
    if (table_[i].name_hash == 0) return nullptr;
  }
}

DeferredListing DeferredIndex::list(int64_t now, bool use_index, bool keep_waiting) {
  DeferredListing listing;
  std::string dir_path = spool_.path(relay::Stage::kDeferred, "");
  struct stat dir_st {};
  if (::stat(dir_path.c_str(), &dir_st) != 0) relay::fail_errno("unable to stat " + dir_path, errno);
  stamp_seconds_ = dir_st.st_mtim.tv_sec;
  stamp_nanos_ = dir_st.st_mtim.tv_nsec;
  if (use_index && load(now)) {
    listing.unchanged_idle = true;  // the index on disk stays as it is
    return listing;
  }
  listed_ = true;

  DIR* dir = ::opendir(dir_path.c_str());
  if (dir == nullptr) relay::fail_errno("unable to read " + dir_path, errno);
  int dfd = ::dirfd(dir);
  int64_t next_due = std::numeric_limits<int64_t>::max();
  seen_.clear();
  seen_.reserve(table_.size() / 2 + 64);
  // readdir reports errors only through errno, which a vanished file's fstatat also sets.
  for (errno = 0; dirent* d = ::readdir(dir); errno = 0) {
    if (d->d_name[0] == '.' || d->d_name[0] == '\0' || (d->d_type != DT_REG && d->d_type != DT_UNKNOWN)) continue;
    Slot s{name_hash(d->d_name), static_cast<uint64_t>(d->d_ino), 0};
    const Slot* known = find(s.name_hash);
    if (known != nullptr && known->ino == s.ino && s.ino != 0) {
      s.mtime = known->mtime;
    } else {
      struct stat st {};
      if (::fstatat(dfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
      s.mtime = st.st_mtim.tv_sec;
      ++listing.stats;
    }
    ++listing.count;
    if (s.mtime <= now) {
      listing.due.push_back({d->d_name, s.mtime, seen_.size()});
    } else {
      if (s.mtime < next_due) next_due = s.mtime;
      if (keep_waiting) listing.waiting.push_back({d->d_name, s.mtime, seen_.size()});
    }
    seen_.push_back(s);
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) relay::fail_errno("unable to read " + dir_path, err);
  next_due_ = next_due;
  listing.next_due = next_due == std::numeric_limits<int64_t>::max() ? 0 : next_due;
  return listing;
}

void DeferredIndex::save(bool pass_changed_deferred) const {
  if (!listed_) return;
  timespec real{};
  clock_gettime(CLOCK_REALTIME, &real);
  bool quiet = !pass_changed_deferred && real.tv_sec - stamp_seconds_ >= 2;
  Header header{};
  std::memcpy(header.magic, kMagic, sizeof kMagic);
  header.stamp_seconds = quiet ? stamp_seconds_ : 0;
  header.stamp_nanos = quiet ? stamp_nanos_ : 0;
  header.next_due = next_due_;
  header.count = seen_.size();
  // Only a cache: written without fsync; lost or torn, the next pass stats what it lacks.
  std::string path = spool_.root() + std::string(kIndexName);
  std::string tmp = path + "." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return;
  bool ok = write_exact(fd, &header, sizeof header) && write_exact(fd, seen_.data(), seen_.size() * sizeof(Slot));
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) ::unlink(tmp.c_str());
}

}  // namespace spoolretry
