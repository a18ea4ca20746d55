#include "credentials.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "relay/exit_codes.hpp"
#include "relay/headers.hpp"
#include "relay/secret_file.hpp"

namespace mxdeliver {
namespace {

constexpr off_t kMaxFile = 1 << 20;
constexpr size_t kMaxLine = 4096;

}  // namespace

std::map<std::string, relay::smtp::Credentials> read_credentials(const std::string& path) {
  std::string text = relay::read_secret_file(path, "credentials file", kMaxFile);

  std::map<std::string, relay::smtp::Credentials> result;
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    size_t s1 = line.find(' ');
    size_t s2 = s1 == std::string::npos ? s1 : line.find(' ', s1 + 1);
    if (line.size() > kMaxLine || s2 == std::string::npos || s2 == s1 + 1 || s2 + 1 >= line.size())
      // The line itself is never echoed: it holds a password.
      throw relay::Failure(relay::kExitConfig, "unable to parse the credentials file " + path + ": line " +
                                                   std::to_string(line_no) + " is not HOST USER PASSWORD");
    std::string host = relay::to_lower(line.substr(0, s1));
    if (host.starts_with("[")) {
      size_t close = host.find(']');
      if (close != std::string::npos) host = host.substr(1, close - 1) + host.substr(close + 1);
    }
    result[host] = {line.substr(s1 + 1, s2 - s1 - 1), line.substr(s2 + 1)};
  }
  return result;
}

}  // namespace mxdeliver
