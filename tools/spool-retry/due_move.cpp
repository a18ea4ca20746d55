#include "due_move.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "relay/exit_codes.hpp"

namespace spoolretry {

std::optional<LockedDue> LockedDue::lock(const relay::Spool& spool, const std::string& id) {
  std::string path = spool.path(relay::Stage::kDeferred, id);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    relay::fail_errno("unable to open " + path, errno);
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  return LockedDue(spool, id, fd);
}

LockedDue::LockedDue(LockedDue&& other) noexcept : spool_(other.spool_), id_(std::move(other.id_)), fd_(other.fd_) {
  other.fd_ = -1;
}

LockedDue::~LockedDue() { unlock(); }

void LockedDue::unlock() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

int64_t LockedDue::mtime() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) relay::fail_errno("unable to stat deferred message " + id_, errno);
  return st.st_mtim.tv_sec;
}

relay::Envelope LockedDue::read_envelope() const {
  constexpr size_t kChunk = 8192, kMaxEnvelope = 16 << 20;
  std::string data;
  for (;;) {
    size_t old = data.size();
    data.resize(old + kChunk);
    ssize_t n = ::pread(fd_, data.data() + old, kChunk, static_cast<off_t>(old));
    if (n < 0 && errno == EINTR) {
      data.resize(old);
      continue;
    }
    if (n < 0) relay::fail_errno("unable to read deferred message " + id_, errno);
    data.resize(old + static_cast<size_t>(n));
    size_t end = relay::envelope_end(data);
    if (end != std::string::npos) return relay::parse_envelope(std::string_view(data).substr(0, end));
    if (n == 0 || data.size() > kMaxEnvelope)
      throw relay::Failure(relay::kExitData, "unable to read envelope of " + id_ + ": no end of envelope");
  }
}

bool LockedDue::move_to_outgoing() {
  std::string from = spool_->path(relay::Stage::kDeferred, id_);
  std::string to = spool_->path(relay::Stage::kOutgoing, id_);
  if (::rename(from.c_str(), to.c_str()) != 0) {
    if (errno == ENOENT) return false;
    relay::fail_errno("unable to move " + from + " to outgoing", errno);
  }
  unlock();
  return true;
}

void LockedDue::set_mtime(int64_t next_attempt) {
  timespec times[2] = {{0, UTIME_OMIT}, {static_cast<time_t>(next_attempt), 0}};
  if (::futimens(fd_, times) != 0) relay::fail_errno("unable to set the next-attempt time of " + id_, errno);
}

void sync_stage(const relay::Spool& spool, relay::Stage stage) {
  std::string dir = spool.path(stage, "");
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) relay::fail_errno("unable to open " + dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) relay::fail_errno("unable to sync " + dir, err);
}

}  // namespace spoolretry
