#include "relay/smtp_client_conn.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "relay/log.hpp"

namespace relay::smtp {
namespace {

std::string ssl_error_text() {
  std::string text;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(e, buffer, sizeof buffer);
    if (!text.empty()) text += "; ";
    text += buffer;
  }
  return text;
}

bool is_timeout(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == ETIMEDOUT; }

bool is_ip_literal(const std::string& name) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, name.c_str(), buffer) == 1 || inet_pton(AF_INET6, name.c_str(), buffer) == 1;
}

constexpr size_t kReadChunk = 16384;
constexpr size_t kDataChunk = 65536;

std::string describe_errno(int err) { return std::strerror(err); }

}  // namespace

Connection::Connection(const std::string& address, uint16_t port, int timeout_ms) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    length = sizeof *v4;
  } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    length = sizeof *v6;
  } else {
    throw IoError("not an IP address: " + log::sanitize(address), false);
  }
  fd_ = ::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) throw IoError("socket: " + describe_errno(errno), false);
  int rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&storage), length);
  int err = rc < 0 && errno != EINPROGRESS ? errno : 0;
  if (rc < 0 && err == 0) {
    pollfd p{fd_, POLLOUT, 0};
    int ready;
    do ready = ::poll(&p, 1, timeout_ms);
    while (ready < 0 && errno == EINTR);
    socklen_t err_len = sizeof err;
    if (ready == 0) err = ETIMEDOUT;
    else if (ready < 0) err = errno;
    else getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &err_len);
  }
  if (err != 0) {
    ::close(fd_);
    fd_ = -1;
    throw IoError(err == ETIMEDOUT ? "connection timed out" : describe_errno(err), err == ETIMEDOUT);
  }
  // Blocking from here on, each call bounded by SO_RCVTIMEO/SO_SNDTIMEO: the same
  // bound works for plaintext and for OpenSSL's reads and writes.
  fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

Connection::~Connection() {
  if (ssl_) {
    // A quiet close: the peer may already be gone, and QUIT has been said.
    SSL_set_quiet_shutdown(ssl_, 1);
    SSL_free(ssl_);
  }
  if (fd_ >= 0) ::close(fd_);
}

void Connection::set_timeout(int option, int& current, int timeout_ms) {
  if (timeout_ms == current) return;
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd_, SOL_SOCKET, option, &tv, sizeof tv);
  current = timeout_ms;
}

void Connection::set_read_timeout(int timeout_ms) { set_timeout(SO_RCVTIMEO, read_timeout_, timeout_ms); }
void Connection::set_write_timeout(int timeout_ms) { set_timeout(SO_SNDTIMEO, write_timeout_, timeout_ms); }

void Connection::start_tls(const TlsClientContext& context, const std::string& peer_name, int timeout_ms) {
  set_read_timeout(timeout_ms);
  set_write_timeout(timeout_ms);
  ERR_clear_error();
  ssl_ = SSL_new(context.get());
  if (!ssl_) throw TlsError("TLS setup: " + ssl_error_text(), false);
  SSL_set_fd(ssl_, fd_);
  if (!peer_name.empty() && !is_ip_literal(peer_name)) {
    SSL_set_tlsext_host_name(ssl_, peer_name.c_str());
    SSL_set1_host(ssl_, peer_name.c_str());
  } else if (!peer_name.empty()) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), peer_name.c_str());
  }
  int rc = SSL_connect(ssl_);
  if (rc != 1) {
    int err = errno;
    int ssl_err = SSL_get_error(ssl_, rc);
    std::string detail = ssl_error_text();
    bool timeout = ssl_err == SSL_ERROR_SYSCALL && is_timeout(err);
    if (detail.empty()) detail = timeout ? "timed out" : ssl_err == SSL_ERROR_SYSCALL && err ? describe_errno(err) : "connection closed";
    SSL_free(ssl_);
    ssl_ = nullptr;
    throw TlsError("TLS handshake failed: " + detail, timeout);
  }
  tls_.active = true;
  tls_.version = SSL_get_version(ssl_);
  tls_.cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(ssl_));
  long verify = SSL_get_verify_result(ssl_);
  tls_.verified = verify == X509_V_OK && SSL_get0_peer_certificate(ssl_) != nullptr;
  if (!tls_.verified)
    tls_.verify_error = verify == X509_V_OK ? "no certificate" : X509_verify_cert_error_string(verify);
}

void Connection::send(std::string_view data, int timeout_ms) {
  set_write_timeout(timeout_ms);
  while (!data.empty()) {
    ssize_t n;
    int err = 0;
    if (ssl_) {
      ERR_clear_error();
      int rc = SSL_write(ssl_, data.data(), static_cast<int>(std::min<size_t>(data.size(), 1 << 30)));
      n = rc;
      if (rc <= 0) {
        err = errno;
        int ssl_err = SSL_get_error(ssl_, rc);
        if (ssl_err == SSL_ERROR_SYSCALL && is_timeout(err)) throw IoError("timeout while sending", true);
        std::string detail = ssl_error_text();
        throw IoError("lost connection while sending" + (detail.empty() ? "" : ": " + detail), false);
      }
    } else {
      n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0) {
        err = errno;
        if (err == EINTR) continue;
        if (is_timeout(err)) throw IoError("timeout while sending", true);
        throw IoError("lost connection while sending: " + describe_errno(err), false);
      }
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

size_t Connection::read_some(char* buffer, size_t size) {
  for (;;) {
    if (ssl_) {
      ERR_clear_error();
      int rc = SSL_read(ssl_, buffer, static_cast<int>(size));
      if (rc > 0) return static_cast<size_t>(rc);
      int err = errno;
      int ssl_err = SSL_get_error(ssl_, rc);
      if (ssl_err == SSL_ERROR_SYSCALL && is_timeout(err)) throw IoError("timeout while reading", true);
      throw IoError("lost connection while reading", false);
    }
    ssize_t n = ::recv(fd_, buffer, size, 0);
    if (n > 0) return static_cast<size_t>(n);
    if (n == 0) throw IoError("lost connection while reading", false);
    int err = errno;
    if (err == EINTR) continue;
    if (is_timeout(err)) throw IoError("timeout while reading", true);
    throw IoError("lost connection while reading: " + describe_errno(err), false);
  }
}

std::string Connection::read_line(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    size_t lf = in_.find('\n', in_pos_);
    if (lf != std::string::npos) {
      size_t end = lf > in_pos_ && in_[lf - 1] == '\r' ? lf - 1 : lf;
      std::string line = in_.substr(in_pos_, end - in_pos_);
      in_pos_ = lf + 1;
      if (in_pos_ == in_.size()) {
        in_.clear();
        in_pos_ = 0;
      }
      return line;
    }
    if (in_.size() - in_pos_ > kMaxReplyLine) throw IoError("reply line too long", false);
    if (in_pos_ > 0) {
      in_.erase(0, in_pos_);
      in_pos_ = 0;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw IoError("timeout while reading", true);
    set_read_timeout(static_cast<int>(left.count()));
    char buffer[kReadChunk];
    size_t n = read_some(buffer, sizeof buffer);
    in_.append(buffer, n);
  }
}

Reply Connection::read_reply(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  Reply reply;
  for (;;) {
    std::string line = read_line(deadline);
    int code = 0;
    bool last = false;
    std::string text;
    if (!parse_reply_line(line, code, last, text))
      throw IoError("malformed reply: " + log::sanitize(line.substr(0, 200)), false);
    if (reply.code != 0 && code != reply.code)
      throw IoError("reply code changed within a multiline reply", false);
    reply.code = code;
    if (reply.lines.size() >= kMaxReplyLines) throw IoError("reply has too many lines", false);
    reply.lines.push_back(log::sanitize(text));
    if (last) return reply;
  }
}

void Connection::send_data(std::string_view message, int timeout_ms) {
  std::string out;
  out.reserve(std::min(message.size() + message.size() / 32 + 8, kDataChunk + 1024));
  bool line_start = true;
  for (size_t i = 0; i < message.size(); ++i) {
    char c = message[i];
    if (line_start && c == '.') out += '.';
    if (c == '\n' && (i == 0 || message[i - 1] != '\r')) out += '\r';
    out += c;
    line_start = c == '\n';
    if (out.size() >= kDataChunk) {
      send(out, timeout_ms);
      out.clear();
    }
  }
  if (!line_start) out += "\r\n";
  out += ".\r\n";
  send(out, timeout_ms);
}

}  // namespace relay::smtp
