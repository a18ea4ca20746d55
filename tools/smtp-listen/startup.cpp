#include "startup.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "relay/cli.hpp"
#include "relay/exit_codes.hpp"
#include "relay/headers.hpp"
#include "relay/log.hpp"
#include "relay/spool.hpp"
#include "server.hpp"

namespace smtp_listen {
namespace {

constexpr int kSystemdFirstFd = 3;  // sd_listen_fds(3)

void set_nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) relay::fail_errno("unable to set O_NONBLOCK", errno);
}

// Sockets passed by systemd (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES); a socket named "smtps"
// or "tls" is an implicit-TLS listener.
std::vector<Listener> inherited_listeners() {
  std::vector<Listener> listeners;
  const char* pid = std::getenv("LISTEN_PID");
  const char* fds = std::getenv("LISTEN_FDS");
  if (!pid || !fds || std::atol(pid) != static_cast<long>(getpid())) return listeners;
  int count = std::atoi(fds);
  std::string names = std::getenv("LISTEN_FDNAMES") ? std::getenv("LISTEN_FDNAMES") : "";
  for (int i = 0; i < count; ++i) {
    int fd = kSystemdFirstFd + i;
    std::string name;
    size_t start = 0;
    for (int k = 0; k <= i && start != std::string::npos; ++k) {
      size_t colon = names.find(':', start);
      name = names.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
      start = colon == std::string::npos ? colon : colon + 1;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    set_nonblocking(fd);
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
    listeners.push_back({fd, name == "smtps" || name == "tls", ip_text(bound) + ":" + std::to_string(port_of(bound))});
  }
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_FDNAMES");
  return listeners;
}

void drop_privileges(const std::string& user) {
  errno = 0;
  passwd* entry = getpwnam(user.c_str());
  if (!entry) throw relay::Failure(relay::kExitConfig, "unable to find user " + user);
  if (initgroups(entry->pw_name, entry->pw_gid) != 0 || setgid(entry->pw_gid) != 0 || setuid(entry->pw_uid) != 0)
    relay::fail_errno("unable to become user " + user, errno);
}

// The client of a stdin/stdout session: ucspi-tcp's TCPREMOTEIP/TCPREMOTEPORT, else the
// peer of the socket on stdin (inetd). RELAYCLIENT, set by tcpserver's rules, allows relaying.
ClientInfo stdio_client(const CidrList& allow) {
  ClientInfo client;
  if (const char* ip = std::getenv("TCPREMOTEIP")) {
    client.ip = ip;
    if (const char* port = std::getenv("TCPREMOTEPORT")) client.port = std::atoi(port);
  } else {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    if (getpeername(STDIN_FILENO, reinterpret_cast<sockaddr*>(&peer), &length) == 0 &&
        (peer.ss_family == AF_INET || peer.ss_family == AF_INET6)) {
      client.ip = ip_text(peer);
      client.port = port_of(peer);
    }
  }
  client.relay_allowed = std::getenv("RELAYCLIENT") != nullptr || (!client.ip.empty() && allow.contains(client.ip));
  return client;
}

void check_stdio(int fd, const char* name) {
  struct stat st {};
  if (fstat(fd, &st) != 0) relay::fail_errno(std::string("unable to use ") + name, errno);
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
    throw relay::Failure(relay::kExitUsage, std::string("unable to serve on ") + name + ": it must be a socket, pipe or terminal");
  set_nonblocking(fd);
}

// A descriptor per session: take every descriptor the hard limit allows, so --max-sessions and
// not a default soft limit of 1024 decides how many clients are served.
void raise_descriptor_limit(size_t sessions) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < sessions + 64)
    relay::log::warning("only " + std::to_string(limit.rlim_cur) + " descriptors for " + std::to_string(sessions) +
                        " sessions (--max-sessions); raise the hard limit (ulimit -Hn)");
}

void notify_ready(int fd) {
  if (fd < 0) return;
  relay::write_all(fd, "\n", "readiness notification");
  ::close(fd);
}

}  // namespace

int serve(const Config& config, relay::Clock clock) {
  bool tls_configured = !config.tls.cert_file.empty() || !config.tls.key_file.empty();
  if (tls_configured && (config.tls.cert_file.empty() || config.tls.key_file.empty()))
    throw relay::Failure(relay::kExitUsage, "unable to set up TLS: give both --tls-cert and --tls-key");
  if ((!config.listen_tls.empty() || config.stdio_tls) && !tls_configured)
    throw relay::Failure(relay::kExitUsage, "unable to offer implicit TLS: give --tls-cert and --tls-key");
  if (config.stdio && (!config.listen.empty() || !config.listen_tls.empty()))
    throw relay::Failure(relay::kExitUsage, "unable to use --stdio with --listen or --listen-tls");
  if (config.stdio_tls && !config.stdio) throw relay::Failure(relay::kExitUsage, "unable to use --implicit-tls without --stdio");
  CidrList allow;
  for (const std::string& cidr : config.allow_ip)
    if (!allow.add(cidr)) throw relay::Failure(relay::kExitUsage, "unable to parse --allow-ip '" + cidr + "': want a CIDR block");

  raise_descriptor_limit(config.limits.sessions);
  std::vector<Listener> listeners = inherited_listeners();
  for (const std::string& spec : config.listen) listeners.push_back(bind_listener(spec, false));
  for (const std::string& spec : config.listen_tls) listeners.push_back(bind_listener(spec, true));
  if (listeners.empty() && !config.stdio)
    throw relay::Failure(relay::kExitUsage, "unable to serve: give --listen, --listen-tls or --stdio, or sockets from systemd");
  if (!config.user.empty()) drop_privileges(config.user);

  relay::Spool spool(config.spool_dir);
  Services services{config, spool, clock, config.hostname.empty() ? relay::local_hostname() : config.hostname,
                    nullptr, nullptr,
                    AuthThrottle(config.limits.auth_failures, config.limits.auth_failure_window)};
  if (tls_configured) services.tls = std::make_shared<TlsContext>(config.tls);
  if (!config.auth_file.empty()) services.auth = AuthFile::load(config.auth_file);
  std::unique_ptr<relay::policy::Policy> policy;
  if (!config.policy_file.empty()) {
    relay::policy::Options options;
    options.policy_file = config.policy_file;
    options.clock = clock;
    policy = std::make_unique<relay::policy::Policy>(std::move(options));
    services.policy = policy.get();
  }

  auto reload = [&] {
    // SIGHUP: new sessions get the new keys and users; sessions under way keep theirs.
    try {
      if (tls_configured) services.tls = std::make_shared<TlsContext>(config.tls);
      if (!config.auth_file.empty()) services.auth = AuthFile::load(config.auth_file);
      if (policy) policy->reload();
      relay::log::info("reloaded certificates, auth file and policy");
    } catch (const relay::Failure& e) {
      relay::log::warning(std::string(e.what()) + "; keeping the previous configuration");
    }
  };
  // One process per session (--stdio) would make a journal per session: there, each message
  // is fsynced into its stage alone.
  std::unique_ptr<IntakeJournal> journal;
  if (config.journal && !config.stdio) {
    try {
      journal = std::make_unique<IntakeJournal>(
          spool, JournalOptions{.publish_interval = std::chrono::milliseconds(config.publish_interval_ms)});
      services.journal = journal.get();
    } catch (const relay::SpoolFull& e) {
      // A full disk refuses mail either way (452); serving without the journal beats not serving.
      relay::log::warning(std::string(e.what()) + "; each message is fsynced on its own");
    }
  }
  Server server(services, allow, reload);
  if (config.stdio) {
    check_stdio(STDIN_FILENO, "standard input");
    check_stdio(STDOUT_FILENO, "standard output");
    server.add_connection(STDIN_FILENO, STDOUT_FILENO, stdio_client(allow), config.stdio_tls);
  } else {
    for (Listener& listener : listeners) {
      std::printf("listening %s%s\n", listener.label.c_str(), listener.implicit_tls ? " tls" : "");
      server.add_listener(std::move(listener));
    }
    if (std::fflush(stdout) != 0) relay::fail_errno("unable to write standard output", errno);
  }
  notify_ready(config.notify_fd);
  server.run();
  return relay::kExitOk;
}

}  // namespace smtp_listen
