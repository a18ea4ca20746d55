// relay-policy serve: the Postfix policy service, on a socket (one thread per Postfix
// connection) or on stdin/stdout for Postfix's spawn(8). SIGHUP reloads the policy file.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "commands.hpp"
#include "listener.hpp"
#include "postfix_protocol.hpp"
#include "relay/clock.hpp"
#include "relay/exit_codes.hpp"
#include "relay/log.hpp"

namespace relay_policy {
namespace {

int wake_pipe[2] = {-1, -1};  // written by signal handlers and by finished connections
volatile sig_atomic_t got_hup = 0, got_term = 0;

void on_signal(int sig) {
  int saved = errno;
  if (sig == SIGHUP) got_hup = 1;
  else got_term = 1;
  (void)!::write(wake_pipe[1], "s", 1);
  errno = saved;
}

void install_signals() {
  if (::pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) relay::fail_errno("unable to create a pipe", errno);
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGHUP, SIGTERM, SIGINT}) ::sigaction(sig, &sa, nullptr);
}

void drain_wake_pipe() {
  char buf[64];
  while (::read(wake_pipe[0], buf, sizeof buf) > 0) {
  }
}

void reload(relay::policy::Policy& policy) {
  try {
    policy.reload();
    relay::log::info("reloaded the policy file");
  } catch (const relay::Failure& e) {
    relay::log::warning(std::string(e.what()) + " (keeping the rules in force)");
  }
}

// What the server and its connection threads share: the policy and the open connections.
struct Shared {
  explicit Shared(relay::policy::Options options) : policy(std::move(options)) {}
  relay::policy::Policy policy;

  void add(int fd) {
    std::lock_guard lock(mutex);
    fds.insert(fd);
  }
  void remove(int fd) {
    std::lock_guard lock(mutex);
    fds.erase(fd);
    ::close(fd);
  }
  int count() {
    std::lock_guard lock(mutex);
    return static_cast<int>(fds.size());
  }
  // At shutdown: every reader sees the end of its input and its thread finishes.
  void hang_up_all() {
    std::lock_guard lock(mutex);
    for (int fd : fds) ::shutdown(fd, SHUT_RDWR);
  }

 private:
  std::mutex mutex;
  std::set<int> fds;
};

void signal_ready(const ServeArgs& args, int port) {
  if (port != 0) {
    std::printf("%d\n", port);
    std::fflush(stdout);
  }
  if (args.notify_fd >= 0) {
    relay::write_all(args.notify_fd, "\n", "the readiness notification");
    ::close(args.notify_fd);
  }
}

}  // namespace

int run_serve(const relay::Tool& tool, const Common& common, const ServeArgs& args) {
  auto idle = relay::parse_duration(args.idle_timeout);
  if (!idle || *idle <= 0 || *idle > 86400)
    throw relay::Failure(relay::kExitUsage, "unable to parse --idle-timeout \"" + args.idle_timeout + "\"");
  if (args.listen.empty()) {
    relay::policy::Policy policy(common.options(tool));
    signal_ready(args, 0);
    serve_postfix_client(policy, STDIN_FILENO, STDOUT_FILENO, std::chrono::seconds(*idle));
    return relay::kExitOk;
  }
  // Shared with the connection threads, each holding a reference: it outlives the last one.
  auto shared = std::make_shared<Shared>(common.options(tool));
  install_signals();
  Listener listener = open_listener(args.listen);
  signal_ready(args, listener.port);
  while (!got_term) {
    pollfd fds[2] = {{wake_pipe[0], POLLIN, 0}, {listener.fd, POLLIN, 0}};
    // At the limit, new connections wait in the backlog until a client leaves.
    nfds_t count = shared->count() < args.max_clients ? 2 : 1;
    if (::poll(fds, count, -1) < 0 && errno != EINTR) relay::fail_errno("unable to wait for clients", errno);
    if (fds[0].revents) drain_wake_pipe();
    if (got_hup) {
      got_hup = 0;
      reload(shared->policy);
    }
    if (count < 2 || !(fds[1].revents & POLLIN)) continue;
    int fd = ::accept4(listener.fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
        relay::log::warning(std::string("unable to accept a client: ") + std::strerror(errno));
      continue;
    }
    shared->add(fd);
    std::thread([shared, fd, idle] {
      serve_postfix_client(shared->policy, fd, fd, std::chrono::seconds(*idle));
      shared->remove(fd);
      (void)!::write(wake_pipe[1], "c", 1);
    }).detach();
  }
  ::close(listener.fd);
  shared->hang_up_all();
  // Bounded: a client thread stuck anyway ends with the process.
  for (int i = 0; i < 50 && shared->count() > 0; ++i) {
    pollfd wake{wake_pipe[0], POLLIN, 0};
    if (::poll(&wake, 1, 100) > 0) drain_wake_pipe();
  }
  return relay::kExitOk;
}

}  // namespace relay_policy
