#pragma once
// --loop: waiting for mail to arrive in outgoing/ (inotify), and for SIGTERM or SIGINT,
// which end the loop after the messages in hand are done.
#include <string>

namespace mxdeliver {

class OutgoingWatch {
 public:
  explicit OutgoingWatch(const std::string& directory);
  ~OutgoingWatch();
  OutgoingWatch(const OutgoingWatch&) = delete;
  OutgoingWatch& operator=(const OutgoingWatch&) = delete;

  // Waits up to timeout_ms for a file to arrive (or a stop signal); true when one did.
  bool wait(int timeout_ms);

 private:
  int fd_ = -1;
};

// Makes SIGTERM and SIGINT set the stop flag instead of killing the process.
void catch_stop_signals();
bool stop_requested();

}  // namespace mxdeliver
