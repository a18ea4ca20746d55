#pragma once
// One SMTP client connection: a TCP socket with bounded waits, optionally wrapped in TLS,
// read and written as SMTP lines and replies.
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "relay/smtp_client_reply.hpp"
#include "relay/smtp_client_tls.hpp"

typedef struct ssl_st SSL;

namespace relay::smtp {

// The connection failed: refused, reset, closed by the peer, or no progress in time.
class IoError : public std::runtime_error {
 public:
  IoError(const std::string& what, bool timeout) : std::runtime_error(what), timeout_(timeout) {}
  bool timeout() const { return timeout_; }

 private:
  bool timeout_;
};

// The TLS handshake failed (the socket is of no further use).
class TlsError : public IoError {
 public:
  TlsError(const std::string& what, bool timeout) : IoError(what, timeout) {}
};

class Connection {
 public:
  // Connects to address (IPv4 or IPv6 text) within timeout_ms; throws IoError.
  Connection(const std::string& address, uint16_t port, int timeout_ms);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // TLS handshake on the open socket (after STARTTLS's 220, or at once for implicit TLS).
  // peer_name is the name the certificate is checked against (SNI too, unless an IP).
  // Throws TlsError when the handshake fails.
  void start_tls(const TlsClientContext& context, const std::string& peer_name, int timeout_ms);
  const TlsInfo& tls() const { return tls_; }

  // Each write waits at most timeout_ms for the peer; a whole reply must arrive within
  // timeout_ms, so a server that drips bytes cannot hold the client forever.
  void send(std::string_view data, int timeout_ms);
  Reply read_reply(int timeout_ms);
  // Sends a message as DATA content: line ends made CRLF, leading dots doubled, ".\r\n" after.
  void send_data(std::string_view message, int timeout_ms);

 private:
  void set_timeout(int option, int& current, int timeout_ms);
  void set_read_timeout(int timeout_ms);
  void set_write_timeout(int timeout_ms);
  size_t read_some(char* buffer, size_t size);
  std::string read_line(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  SSL* ssl_ = nullptr;
  TlsInfo tls_;
  int read_timeout_ = -1;
  int write_timeout_ = -1;
  std::string in_;      // bytes read but not yet consumed
  size_t in_pos_ = 0;
};

}  // namespace relay::smtp
