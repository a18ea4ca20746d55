#include "outgoing_watch.hpp"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>

#include "relay/exit_codes.hpp"

namespace mxdeliver {
namespace {

std::atomic<bool> g_stop{false};

void on_stop_signal(int) { g_stop = true; }

}  // namespace

void catch_stop_signals() {
  struct sigaction action{};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: poll returns at once with EINTR
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
}

bool stop_requested() { return g_stop; }

OutgoingWatch::OutgoingWatch(const std::string& directory) {
  fd_ = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd_ < 0) relay::fail_errno("unable to watch " + directory, errno);
  // Mail enters a stage by rename, or by link from smtp-listen's intake journal (IN_CREATE).
  if (inotify_add_watch(fd_, directory.c_str(), IN_MOVED_TO | IN_CREATE | IN_CLOSE_WRITE) < 0) {
    int err = errno;
    ::close(fd_);
    relay::fail_errno("unable to watch " + directory, err);
  }
}

OutgoingWatch::~OutgoingWatch() { ::close(fd_); }

bool OutgoingWatch::wait(int timeout_ms) {
  pollfd p{fd_, POLLIN, 0};
  if (stop_requested() || ::poll(&p, 1, timeout_ms) <= 0) return false;
  // Drain every queued event: one pass over outgoing/ handles them all.
  alignas(inotify_event) char buffer[16384];
  bool any = false;
  while (::read(fd_, buffer, sizeof buffer) > 0) any = true;
  return any;
}

}  // namespace mxdeliver
