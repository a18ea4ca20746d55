#include "journal_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "relay/exit_codes.hpp"
#include "relay/spool.hpp"

namespace smtp_listen::journal {
namespace {

[[noreturn]] void fail_io(const std::string& what, int err) {
  if (relay::is_space_error(err)) throw relay::SpoolFull(what + ": " + std::strerror(err));
  relay::fail_errno(what, err);
}

}  // namespace

void write_at(int fd, std::string_view bytes, uint64_t offset, const std::string& what) {
  while (!bytes.empty()) {
    ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_io("unable to write " + what, errno);
    bytes.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
}

std::string read_whole(int fd, const std::string& what) {
  std::string bytes;
  char buffer[1 << 16];
  for (;;) {
    ssize_t n = ::pread(fd, buffer, sizeof buffer, static_cast<off_t>(bytes.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) relay::fail_errno("unable to read " + what, errno);
    if (n == 0) return bytes;
    bytes.append(buffer, static_cast<size_t>(n));
  }
}

void sync_file(int fd, const std::string& what) {
  if (::fsync(fd) != 0) fail_io("unable to sync " + what, errno);  // delayed allocation reports ENOSPC here
}

int open_directory(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) relay::fail_errno("unable to open " + path, errno);
  return fd;
}

void sync_directory(const std::string& path) {
  int fd = open_directory(path);
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    fail_io("unable to sync " + path, err);
  }
  ::close(fd);
}

}  // namespace smtp_listen::journal
