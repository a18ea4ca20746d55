#include "relay/dkim_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fmt/format.h>

#include "relay/exit_codes.hpp"

namespace relay::dkim {

std::string read_limited(int fd, size_t max_bytes, const std::string& what) {
  std::string data;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("unable to read " + what, errno);
    }
    if (n == 0) return data;
    if (data.size() + static_cast<size_t>(n) > max_bytes)
      throw Failure(kExitData, fmt::format("unable to read {}: larger than {} bytes", what, max_bytes));
    data.append(buffer, static_cast<size_t>(n));
  }
}

std::string read_file_limited(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_errno("unable to open " + path, errno);
  try {
    std::string data = read_limited(fd, max_bytes, path);
    ::close(fd);
    return data;
  } catch (...) {
    ::close(fd);
    throw;
  }
}

}  // namespace relay::dkim
