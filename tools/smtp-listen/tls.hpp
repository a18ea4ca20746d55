#pragma once
// TLS with OpenSSL: the server context (certificate, key, protocol floor, ciphers), built
// again on SIGHUP, and the byte stream of one connection, plaintext or TLS, over
// non-blocking file descriptors (read and write may be different ones, as with inetd).
#include <openssl/ssl.h>

#include <cstddef>
#include <memory>
#include <string>

#include "config.hpp"

namespace smtp_listen {

class TlsContext {
 public:
  // Throws relay::Failure(kExitConfig) for an unreadable or mismatched certificate and key,
  // kExitPermission when the key file may be read by group or others.
  explicit TlsContext(const TlsSettings& settings);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  SSL_CTX* get() const { return ctx_; }

 private:
  SSL_CTX* ctx_;
};

enum class IoResult { kDone, kWantRead, kWantWrite, kClosed, kError };

class Stream {
 public:
  Stream(int read_fd, int write_fd) : read_fd_(read_fd), write_fd_(write_fd) {}
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Switches to TLS as a server; the handshake then runs in handshake().
  void start_tls(const std::shared_ptr<TlsContext>& context);
  bool tls() const { return ssl_ != nullptr; }
  bool handshaking() const { return handshaking_; }
  IoResult handshake();

  IoResult read(char* buffer, size_t capacity, size_t* got);
  IoResult write(const char* data, size_t size, size_t* put);
  // Bytes already decrypted and waiting: epoll will not announce them.
  bool pending() const { return ssl_ && SSL_pending(ssl_) > 0; }

  std::string tls_version() const;   // "TLSv1.3"
  std::string tls_cipher() const;    // "TLS_AES_256_GCM_SHA384"
  std::string error() const { return error_; }  // why the last call failed, for the log

 private:
  IoResult tls_result(int ret);

  int read_fd_;
  int write_fd_;
  std::shared_ptr<TlsContext> context_;  // kept alive while ssl_ uses it
  SSL* ssl_ = nullptr;
  bool handshaking_ = false;
  std::string error_;
};

}  // namespace smtp_listen
