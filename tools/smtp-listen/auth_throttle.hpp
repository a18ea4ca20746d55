#pragma once
// Failed logins counted per client address: after too many in a window, AUTH is refused for
// that address until the window has passed. Used from the event loop thread only.
#include <cstdint>
#include <string>
#include <unordered_map>

namespace smtp_listen {

class AuthThrottle {
 public:
  AuthThrottle(int max_failures, int64_t window) : max_failures_(max_failures), window_(window) {}
  bool blocked(const std::string& ip, int64_t now);
  void record_failure(const std::string& ip, int64_t now);

 private:
  struct Count {
    int failures = 0;
    int64_t since = 0;
  };
  void forget_old(int64_t now);

  int max_failures_;
  int64_t window_;
  std::unordered_map<std::string, Count> counts_;
};

}  // namespace smtp_listen
