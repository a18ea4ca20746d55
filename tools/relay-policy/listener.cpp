#include "listener.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "relay/exit_codes.hpp"

namespace relay_policy {
namespace {

[[noreturn]] void bad_address(const std::string& address, const std::string& why) {
  throw relay::Failure(relay::kExitConfig, "unable to parse listen address \"" + address + "\": " + why);
}

Listener listen_unix(const std::string& path) {
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  if (path.size() >= sizeof sun.sun_path) bad_address(path, "socket path too long");
  std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) relay::fail_errno("unable to create a socket", errno);
  // A socket file left by a previous run would make bind fail; only a socket is removed.
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0 || ::chmod(path.c_str(), 0666) != 0 ||
      ::listen(fd, 128) != 0) {
    int err = errno;
    ::close(fd);
    relay::fail_errno("unable to listen on " + path, err);
  }
  return {fd, 0};
}

Listener listen_tcp(const std::string& address) {
  std::string host, port;
  if (!address.empty() && address.front() == '[') {
    size_t close = address.find("]:");
    if (close == std::string::npos) bad_address(address, "want [V6]:PORT");
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
  } else {
    size_t colon = address.rfind(':');
    if (colon == std::string::npos) bad_address(address, "want unix:PATH, /PATH, HOST:PORT or [V6]:PORT");
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
    bad_address(address, ::gai_strerror(rc));
  int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || ::bind(fd, found->ai_addr, found->ai_addrlen) != 0 || ::listen(fd, 128) != 0) {
    int err = errno;
    if (fd >= 0) ::close(fd);
    ::freeaddrinfo(found);
    relay::fail_errno("unable to listen on " + address, err);
  }
  ::freeaddrinfo(found);
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  int bound_port = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                               : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return {fd, bound_port};
}

}  // namespace

Listener open_listener(const std::string& address) {
  if (address.starts_with("unix:")) return listen_unix(address.substr(5));
  if (address.starts_with("/")) return listen_unix(address);
  return listen_tcp(address);
}

}  // namespace relay_policy
