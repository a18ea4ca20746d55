#include "deferred_index.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <ctime>
#include <limits>

#include "relay/exit_codes.hpp"

namespace spoolretry {

// The file starts with this header, then `count` slots in the order the pass read the
// directory; native byte order (a cache of this machine only). It is rewritten in place, not
// replaced by a rename: freeing the old file's blocks costs a synchronous discard on file
// systems mounted with -o discard. So a reader may meet a file half written (or written by two
// passes at once): the checksums tell, and such a file is ignored (every file is stat'ed).
struct DeferredIndex::Header {
  char magic[8];
  int64_t stamp_seconds;  // deferred/'s mtime when a pass found nothing due, else 0
  int64_t stamp_nanos;
  int64_t next_due;       // earliest next attempt that pass saw
  uint64_t count;
  uint64_t slots_sum;     // checksum of the slots
  uint64_t header_sum;    // checksum of the fields above
};

namespace {

constexpr char kMagic[8] = {'R', 'T', 'R', 'Y', 'I', 'X', '0', '2'};
constexpr std::string_view kIndexName = "/.retry-index";
// How far ahead of the cursor a name is looked for before the lookup table.
constexpr size_t kLookahead = 32;

uint64_t mix(uint64_t h) {
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

// FNV-1a with a splitmix64 finish; never 0 (the empty slot).
uint64_t name_hash(const char* name) {
  uint64_t h = 14695981039346656037ull;
  for (const char* p = name; *p; ++p) {
    h ^= static_cast<unsigned char>(*p);
    h *= 1099511628211ull;
  }
  h = mix(h);
  return h == 0 ? 1 : h;
}

uint64_t checksum(const void* data, size_t size) {
  const auto* words = static_cast<const uint64_t*>(data);
  uint64_t h = 0x9e3779b97f4a7c15ull ^ size;
  for (size_t i = 0; i < size / sizeof(uint64_t); ++i) h = (h ^ words[i]) * 0xff51afd7ed558ccdull + 1;
  return mix(h);
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

bool pwrite_exact(int fd, const void* buf, size_t size, off_t offset) {
  const char* in = static_cast<const char*>(buf);
  while (size > 0) {
    ssize_t n = ::pwrite(fd, in, size, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    in += n;
    size -= static_cast<size_t>(n);
    offset += n;
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
            header.header_sum == checksum(&header, offsetof(Header, header_sum)) && ::fstat(fd, &st) == 0 &&
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
  previous_.resize(header.count);
  size_t bytes = previous_.size() * sizeof(Slot);
  if (!read_exact(fd, previous_.data(), bytes) || checksum(previous_.data(), bytes) != header.slots_sum)
    previous_.clear();
  ::close(fd);
  return false;
}

void DeferredIndex::build_table() {
  size_t size = 16;
  while (size < previous_.size() * 2) size *= 2;
  table_.assign(size, 0);
  for (size_t pos = 0; pos < previous_.size(); ++pos) {
    size_t i = previous_[pos].name_hash & (size - 1);
    while (table_[i] != 0) i = (i + 1) & (size - 1);
    table_[i] = static_cast<uint32_t>(pos + 1);
  }
  table_built_ = true;
}

const DeferredIndex::Slot* DeferredIndex::find(uint64_t hash) {
  // The directory lists its files in the same order every pass (ext4: by its own name hash),
  // so the previous pass's files mostly come in turn: a cursor finds them without the random
  // memory accesses of the table, which is built only for a file out of turn.
  size_t end = std::min(previous_.size(), cursor_ + kLookahead);
  for (size_t pos = cursor_; pos < end; ++pos) {
    if (previous_[pos].name_hash == hash) {
      cursor_ = pos + 1;
      return &previous_[pos];
    }
  }
  if (previous_.empty()) return nullptr;
  if (!table_built_) build_table();
  size_t mask = table_.size() - 1;
  for (size_t i = hash & mask; table_[i] != 0; i = (i + 1) & mask) {
    size_t pos = table_[i] - 1;
    if (previous_[pos].name_hash == hash) {
      cursor_ = pos + 1;
      return &previous_[pos];
    }
  }
  return nullptr;
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
  seen_.reserve(previous_.size() + 64);
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
  size_t bytes = seen_.size() * sizeof(Slot);
  header.slots_sum = checksum(seen_.data(), bytes);
  header.header_sum = checksum(&header, offsetof(Header, header_sum));
  // Only a cache: written without fsync; lost or torn, the next pass stats what it lacks.
  std::string path = spool_.root() + std::string(kIndexName);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
  if (fd < 0) return;
  off_t size = static_cast<off_t>(sizeof header + bytes);
  bool ok = pwrite_exact(fd, seen_.data(), bytes, sizeof header) && pwrite_exact(fd, &header, sizeof header, 0) &&
            ::ftruncate(fd, size) == 0;
  ::close(fd);
  if (!ok) ::unlink(path.c_str());
}

}  // namespace spoolretry
