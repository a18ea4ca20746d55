#pragma once
// One client connection on the event loop: the byte stream (plaintext or TLS), the output
// buffer, timers, and the Session it drives.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "session.hpp"
#include "tls.hpp"

namespace smtp_listen {

class Server;

class Connection : public SessionHost {
 public:
  Connection(Server& server, uint64_t id, int read_fd, int write_fd, ClientInfo client, bool implicit_tls);
  ~Connection() override;

  uint64_t id() const { return id_; }
  int read_fd() const { return read_fd_; }
  int write_fd() const { return write_fd_; }
  const std::string& client_ip() const { return client_ip_; }

  void begin();
  void pump();                      // do all I/O that can be done now
  void tick(int64_t now_ms);        // timers: waits, timeouts
  void stop() { session_.stop(); }
  bool finished() const { return finished_; }
  bool wants_read() const;
  bool wants_write() const;

  // SessionHost
  void send(std::string_view text) override;
  void start_tls() override;
  void close() override;
  void run_off_loop(Work kind, std::function<void()> work, std::function<void()> done) override;
  void after(int64_t millis, std::function<void()> done) override;

  // What epoll watches for this connection now; kept by the Server.
  uint32_t watched[2] = {0, 0};  // read fd, write fd (one entry when they are the same)
  bool added[2] = {false, false};

 private:
  bool flush();
  bool begin_tls();  // false when OpenSSL could not set up the connection: it is dropped
  void drop(const char* reason);

  Server& server_;
  uint64_t id_;
  int read_fd_;
  int write_fd_;
  std::string client_ip_;
  bool implicit_tls_;
  Stream stream_;
  Session session_;
  std::string out_;
  size_t out_pos_ = 0;
  bool tls_requested_ = false;
  bool close_requested_ = false;
  bool finished_ = false;
  IoResult handshake_wants_ = IoResult::kWantRead;
  bool read_wants_write_ = false;
  bool write_wants_read_ = false;
  int64_t started_ms_;
  int64_t last_input_ms_;
  int64_t close_deadline_ms_ = 0;
  int64_t wake_at_ms_ = 0;
  std::function<void()> wake_;
};

}  // namespace smtp_listen
