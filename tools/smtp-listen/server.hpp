#pragma once
// The event loop: listeners, connections, signals and the worker pool, on one epoll set.
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "address_list.hpp"
#include "connection.hpp"
#include "session.hpp"
#include "worker_pool.hpp"

namespace smtp_listen {

int64_t monotonic_ms();

struct Listener {
  int fd;
  bool implicit_tls;
  std::string label;  // "127.0.0.1:2525" as bound
};

// Binds a listening socket for "ADDR:PORT"; throws relay::Failure.
Listener bind_listener(const std::string& spec, bool implicit_tls);

class Server {
 public:
  using Reload = std::function<void()>;
  Server(Services& services, const CidrList& allow, Reload reload);
  ~Server();

  Services& services() { return services_; }
  WorkerPool& pool(SessionHost::Work kind) { return kind == SessionHost::Work::kSpool ? pool_ : password_pool_; }

  void add_listener(Listener listener);
  // One connection on given descriptors (stdin/stdout mode).
  void add_connection(int read_fd, int write_fd, ClientInfo client, bool implicit_tls);
  // Runs until stopped by SIGTERM/SIGINT and every session has ended, or, with no
  // listeners, until the last connection ends.
  void run();

  void update(Connection& connection);  // epoll interest after the connection's state changed
  void schedule(uint64_t id);           // pump again soon (TLS bytes already decrypted)
  Connection* find(uint64_t id);

 private:
  void accept_from(const Listener& listener);
  void on_signal();
  void stop();
  void remove(Connection& connection);
  void sweep(int64_t now_ms);
  void reap();  // destroys finished connections
  void resume_listeners();  // after running out of descriptors

  Services& services_;
  const CidrList& allow_;
  Reload reload_;
  int epoll_fd_;
  int signal_fd_;
  WorkerPool pool_;           // spool fsyncs
  WorkerPool password_pool_;  // crypt(3)
  std::vector<Listener> listeners_;
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections_;
  std::unordered_map<std::string, size_t> per_ip_;
  std::vector<uint64_t> scheduled_;
  std::vector<uint64_t> dead_;
  uint64_t next_id_ = 1;
  bool stopping_ = false;
  bool paused_listeners_ = false;
};

}  // namespace smtp_listen
