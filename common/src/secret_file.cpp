#include "relay/secret_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "relay/exit_codes.hpp"

namespace relay {
namespace {

// Closes the descriptor whichever way the read ends.
struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

}  // namespace

std::string read_secret_file(const std::string& path, const std::string& what, size_t max_size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) fail_errno("unable to open " + what + " " + path, errno);
  FdCloser closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail_errno("unable to stat " + what + " " + path, errno);
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw Failure(kExitPermission, "unable to use " + what + " " + path + ": group or others may access it (mode " +
                                       mode + "; chmod 600)");
  }
  if (!S_ISREG(st.st_mode) || static_cast<size_t>(st.st_size) > max_size)
    throw Failure(kExitConfig, "unable to use " + what + " " + path + ": not a regular file of at most " +
                                   std::to_string(max_size) + " bytes");
  std::string text;
  char buffer[8192];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno("unable to read " + what + " " + path, errno);
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > max_size) throw Failure(kExitConfig, "unable to use " + what + " " + path + ": it grew too large");
  }
  return text;
}

}  // namespace relay
