#pragma once
// A listening socket from an operator's address: unix:PATH or /PATH (mode 0666: access is
// controlled by the directory), HOST:PORT or [V6]:PORT (numeric; port 0 picks one).
#include <string>

namespace relay_policy {

struct Listener {
  int fd = -1;
  int port = 0;  // the bound TCP port; 0 for a unix socket
};

// Throws relay::Failure (78 for a bad address, 75 when the socket cannot be bound).
Listener open_listener(const std::string& address);

}  // namespace relay_policy
