#include "server.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "relay/exit_codes.hpp"
#include "relay/log.hpp"

namespace smtp_listen {
namespace {

// epoll tokens: the low two bits say what the rest names.
constexpr uint64_t kTokenRead = 0, kTokenWrite = 1, kTokenListener = 2, kTokenSpecial = 3;
constexpr uint64_t kSignalToken = (0 << 2) | kTokenSpecial;
constexpr uint64_t kPoolToken = (1 << 2) | kTokenSpecial;
constexpr uint64_t kPasswordPoolToken = (2 << 2) | kTokenSpecial;
constexpr int kPasswordThreads = 2;
constexpr int kMaxEvents = 256;
constexpr int kTickMs = 100;

void add_fd(int epoll_fd, int fd, uint64_t token, uint32_t events) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = token;
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) relay::fail_errno("unable to watch descriptor", errno);
}

}  // namespace

int64_t monotonic_ms() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

Listener bind_listener(const std::string& spec, bool implicit_tls) {
  socklen_t length = 0;
  auto address = parse_listen_address(spec, &length);
  if (!address) throw relay::Failure(relay::kExitUsage, "unable to parse listen address '" + spec + "': want ADDR:PORT");
  int fd = ::socket(address->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) relay::fail_errno("unable to create socket for " + spec, errno);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (address->ss_family == AF_INET6) {
    // "*:PORT" takes IPv4 too; an explicit IPv6 address only IPv6, so [::] and 0.0.0.0 can coexist.
    bool wildcard = spec.front() == '*' || spec.front() == ':';
    int v6only = wildcard ? 0 : 1;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&*address), length) != 0 || ::listen(fd, 511) != 0) {
    int err = errno;
    ::close(fd);
    relay::fail_errno("unable to listen on " + spec, err);
  }
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length);
  std::string ip = ip_text(bound);
  std::string label = (bound.ss_family == AF_INET6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port_of(bound));
  return {fd, implicit_tls, label};
}

Server::Server(Services& services, const CidrList& allow, Reload reload)
    : services_(services),
      allow_(allow),
      reload_(std::move(reload)),
      epoll_fd_(epoll_create1(EPOLL_CLOEXEC)),
      signal_fd_(-1),
      pool_([&] {
        // Signals are taken by signalfd: block them before the worker threads inherit the mask.
        sigset_t signals;
        sigemptyset(&signals);
        sigaddset(&signals, SIGTERM);
        sigaddset(&signals, SIGINT);
        sigaddset(&signals, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &signals, nullptr);
        return services.config.sync_threads;
      }()),
      password_pool_(kPasswordThreads) {
  if (epoll_fd_ < 0) relay::fail_errno("unable to create epoll set", errno);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  signal_fd_ = signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0) relay::fail_errno("unable to create signalfd", errno);
  add_fd(epoll_fd_, signal_fd_, kSignalToken, EPOLLIN);
  add_fd(epoll_fd_, pool_.event_fd(), kPoolToken, EPOLLIN);
  add_fd(epoll_fd_, password_pool_.event_fd(), kPasswordPoolToken, EPOLLIN);
}

Server::~Server() {
  connections_.clear();
  for (const Listener& listener : listeners_) ::close(listener.fd);
  ::close(signal_fd_);
  ::close(epoll_fd_);
}

void Server::add_listener(Listener listener) {
  add_fd(epoll_fd_, listener.fd, (listeners_.size() << 2) | kTokenListener, EPOLLIN);
  listeners_.push_back(std::move(listener));
}

void Server::add_connection(int read_fd, int write_fd, ClientInfo client, bool implicit_tls) {
  uint64_t id = next_id_++;
  if (!client.ip.empty()) ++per_ip_[client.ip];
  auto connection = std::make_unique<Connection>(*this, id, read_fd, write_fd, std::move(client), implicit_tls);
  Connection& ref = *connection;
  connections_.emplace(id, std::move(connection));
  ref.begin();
}

Connection* Server::find(uint64_t id) {
  auto found = connections_.find(id);
  return found == connections_.end() || found->second->finished() ? nullptr : found->second.get();
}

void Server::schedule(uint64_t id) { scheduled_.push_back(id); }

void Server::update(Connection& connection) {
  if (connection.finished()) {
    dead_.push_back(connection.id());
    return;
  }
  uint32_t read_events = connection.wants_read() ? uint32_t{EPOLLIN} : 0u;
  uint32_t write_events = connection.wants_write() ? uint32_t{EPOLLOUT} : 0u;
  auto apply = [&](int slot, int fd, uint32_t events, uint64_t kind) {
    if (connection.added[slot] && connection.watched[slot] == events) return;
    epoll_event event{};
    event.events = events;
    event.data.u64 = (connection.id() << 2) | kind;
    int op = connection.added[slot] ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(epoll_fd_, op, fd, &event) != 0) {
      relay::log::warning(std::string("unable to watch client connection: ") + std::strerror(errno));
      return;
    }
    connection.added[slot] = true;
    connection.watched[slot] = events;
  };
  if (connection.read_fd() == connection.write_fd()) {
    apply(0, connection.read_fd(), read_events | write_events, kTokenRead);
  } else {
    apply(0, connection.read_fd(), read_events, kTokenRead);
    apply(1, connection.write_fd(), write_events, kTokenWrite);
  }
}

void Server::remove(Connection& connection) {
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, connection.read_fd(), nullptr);
  if (connection.write_fd() != connection.read_fd()) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, connection.write_fd(), nullptr);
  const std::string& ip = connection.client_ip();
  if (!ip.empty()) {
    auto count = per_ip_.find(ip);
    if (count != per_ip_.end() && --count->second == 0) per_ip_.erase(count);
  }
}

void Server::accept_from(const Listener& listener) {
  const Limits& limits = services_.config.limits;
  for (;;) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    int fd = accept4(listener.fd, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: the listener stays readable, so stop watching it until the next tick.
        relay::log::warning(std::string("unable to accept: ") + std::strerror(errno));
        epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listener.fd, nullptr);
        paused_listeners_ = true;
      } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        relay::log::warning(std::string("unable to accept: ") + std::strerror(errno));
      }
      return;
    }
    ClientInfo client;
    client.ip = ip_text(peer);
    client.port = port_of(peer);
    client.relay_allowed = allow_.contains(client.ip);
    auto count = per_ip_.find(client.ip);
    const char* refusal = nullptr;
    if (connections_.size() >= limits.sessions)
      refusal = "421 4.7.0 Error: too many sessions, try again later\r\n";
    else if (count != per_ip_.end() && count->second >= limits.sessions_per_ip)
      refusal = "421 4.7.0 Error: too many sessions from your address, try again later\r\n";
    if (refusal) {
      relay::log::event({{"client", client.ip}, {"status", "refused"}, {"reason", "session limit"}});
      if (!listener.implicit_tls) (void)!::write(fd, refusal, std::strlen(refusal));  // best effort
      ::close(fd);
      continue;
    }
    add_connection(fd, fd, std::move(client), listener.implicit_tls);
  }
}

void Server::on_signal() {
  signalfd_siginfo info{};
  while (::read(signal_fd_, &info, sizeof info) == sizeof info) {
    if (info.ssi_signo == SIGHUP) {
      reload_();
    } else {
      stop();
    }
  }
}

void Server::stop() {
  if (stopping_) return;
  stopping_ = true;
  relay::log::info("stopping: no new sessions; sessions in a message finish it");
  for (const Listener& listener : listeners_) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listener.fd, nullptr);
    ::close(listener.fd);
  }
  listeners_.clear();
  for (auto& [id, connection] : connections_) {
    connection->stop();
    connection->pump();
  }
}

void Server::resume_listeners() {
  if (!paused_listeners_ || stopping_) return;
  paused_listeners_ = false;
  for (size_t i = 0; i < listeners_.size(); ++i) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = (i << 2) | kTokenListener;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listeners_[i].fd, &event);  // EEXIST for those never paused
  }
}

void Server::sweep(int64_t now_ms) {
  resume_listeners();
  for (auto& [id, connection] : connections_) {
    connection->tick(now_ms);
    if (connection->finished()) dead_.push_back(id);
  }
}

void Server::reap() {
  for (uint64_t id : dead_) {
    auto found = connections_.find(id);
    if (found == connections_.end()) continue;
    remove(*found->second);
    connections_.erase(found);
  }
  dead_.clear();
}

void Server::run() {
  bool serving = !listeners_.empty();
  epoll_event events[kMaxEvents];
  int64_t next_tick = monotonic_ms() + kTickMs;
  while (true) {
    if ((stopping_ || !serving) && connections_.empty()) break;
    int timeout = scheduled_.empty() ? static_cast<int>(std::max<int64_t>(0, next_tick - monotonic_ms())) : 0;
    int count = epoll_wait(epoll_fd_, events, kMaxEvents, timeout);
    if (count < 0) {
      if (errno == EINTR) continue;
      relay::fail_errno("unable to wait for events", errno);
    }
    for (int i = 0; i < count; ++i) {
      uint64_t token = events[i].data.u64;
      uint64_t kind = token & 3, index = token >> 2;
      if (token == kSignalToken) {
        on_signal();
      } else if (token == kPoolToken) {
        pool_.run_completions();
      } else if (token == kPasswordPoolToken) {
        password_pool_.run_completions();
      } else if (kind == kTokenListener) {
        if (index < listeners_.size()) accept_from(listeners_[index]);
      } else if (Connection* connection = find(index)) {
        connection->pump();
      }
    }
    std::vector<uint64_t> again;
    again.swap(scheduled_);
    for (uint64_t id : again)
      if (Connection* connection = find(id)) connection->pump();
    int64_t now = monotonic_ms();
    if (now >= next_tick) {
      next_tick = now + kTickMs;
      sweep(now);
    }
    reap();  // at once: their client addresses count against the limits
  }
}

}  // namespace smtp_listen
