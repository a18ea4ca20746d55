#include "tls.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "relay/exit_codes.hpp"
#include "relay/secret_file.hpp"

namespace smtp_listen {
namespace {

std::string openssl_error() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no detail";
  const char* reason = ERR_reason_error_string(code);
  return reason ? reason : "error " + std::to_string(code);
}

int protocol_version(const std::string& name) {
  if (name == "TLSv1.2") return TLS1_2_VERSION;
  if (name == "TLSv1.3") return TLS1_3_VERSION;
  throw relay::Failure(relay::kExitConfig, "unable to set TLS minimum version: '" + name + "' is not TLSv1.2 or TLSv1.3");
}

}  // namespace

TlsContext::TlsContext(const TlsSettings& settings) : ctx_(SSL_CTX_new(TLS_server_method())) {
  if (!ctx_) throw relay::Failure(relay::kExitTemporary, "unable to create TLS context: " + openssl_error());
  auto fail = [&](const std::string& what) {
    std::string text = what + ": " + openssl_error();
    SSL_CTX_free(ctx_);
    throw relay::Failure(relay::kExitConfig, text);
  };
  std::string key_pem;
  try {
    key_pem = relay::read_secret_file(settings.key_file, "TLS key", 1 << 16);
  } catch (...) {
    SSL_CTX_free(ctx_);
    throw;
  }
  int version = 0;
  try {
    version = protocol_version(settings.min_version);
  } catch (...) {
    SSL_CTX_free(ctx_);
    throw;
  }
  SSL_CTX_set_min_proto_version(ctx_, version);
  SSL_CTX_set_options(ctx_, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx_, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  static const unsigned char kSessionContext[] = "smtp-listen";
  SSL_CTX_set_session_id_context(ctx_, kSessionContext, sizeof kSessionContext - 1);
  if (!settings.ciphers.empty() && SSL_CTX_set_cipher_list(ctx_, settings.ciphers.c_str()) != 1)
    fail("unable to set TLS ciphers '" + settings.ciphers + "'");
  if (!settings.ciphersuites.empty() && SSL_CTX_set_ciphersuites(ctx_, settings.ciphersuites.c_str()) != 1)
    fail("unable to set TLS 1.3 ciphersuites '" + settings.ciphersuites + "'");
  if (SSL_CTX_use_certificate_chain_file(ctx_, settings.cert_file.c_str()) != 1)
    fail("unable to load TLS certificate " + settings.cert_file);
  BIO* bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
  bool used = key != nullptr && SSL_CTX_use_PrivateKey(ctx_, key) == 1;
  EVP_PKEY_free(key);
  if (!used) fail("unable to load TLS key " + settings.key_file);
  if (SSL_CTX_check_private_key(ctx_) != 1) fail("unable to use TLS key " + settings.key_file + " with its certificate");
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

Stream::~Stream() {
  if (ssl_) SSL_free(ssl_);
}

void Stream::start_tls(const std::shared_ptr<TlsContext>& context) {
  context_ = context;
  ssl_ = SSL_new(context->get());
  if (!ssl_) throw relay::Failure(relay::kExitTemporary, "unable to start TLS: " + openssl_error());
  SSL_set_rfd(ssl_, read_fd_);
  SSL_set_wfd(ssl_, write_fd_);
  SSL_set_accept_state(ssl_);
  handshaking_ = true;
}

IoResult Stream::tls_result(int ret) {
  int error = SSL_get_error(ssl_, ret);
  switch (error) {
    case SSL_ERROR_WANT_READ: return IoResult::kWantRead;
    case SSL_ERROR_WANT_WRITE: return IoResult::kWantWrite;
    case SSL_ERROR_ZERO_RETURN: return IoResult::kClosed;
    case SSL_ERROR_SYSCALL:
      error_ = errno ? std::strerror(errno) : "connection closed";
      ERR_clear_error();
      return errno ? IoResult::kError : IoResult::kClosed;
    default:
      error_ = openssl_error();
      return IoResult::kError;
  }
}

IoResult Stream::handshake() {
  ERR_clear_error();
  errno = 0;
  int ret = SSL_do_handshake(ssl_);
  if (ret == 1) {
    handshaking_ = false;
    return IoResult::kDone;
  }
  return tls_result(ret);
}

IoResult Stream::read(char* buffer, size_t capacity, size_t* got) {
  *got = 0;
  if (ssl_) {
    ERR_clear_error();
    errno = 0;
    int ret = SSL_read(ssl_, buffer, static_cast<int>(capacity));
    if (ret > 0) {
      *got = static_cast<size_t>(ret);
      return IoResult::kDone;
    }
    return tls_result(ret);
  }
  for (;;) {
    ssize_t n = ::read(read_fd_, buffer, capacity);
    if (n > 0) {
      *got = static_cast<size_t>(n);
      return IoResult::kDone;
    }
    if (n == 0) return IoResult::kClosed;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return IoResult::kWantRead;
    error_ = std::strerror(errno);
    return IoResult::kError;
  }
}

IoResult Stream::write(const char* data, size_t size, size_t* put) {
  *put = 0;
  if (ssl_) {
    ERR_clear_error();
    errno = 0;
    int ret = SSL_write(ssl_, data, static_cast<int>(size));
    if (ret > 0) {
      *put = static_cast<size_t>(ret);
      return IoResult::kDone;
    }
    return tls_result(ret);
  }
  for (;;) {
    ssize_t n = ::write(write_fd_, data, size);
    if (n >= 0) {
      *put = static_cast<size_t>(n);
      return IoResult::kDone;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return IoResult::kWantWrite;
    error_ = std::strerror(errno);
    return IoResult::kError;
  }
}

std::string Stream::tls_version() const { return ssl_ ? SSL_get_version(ssl_) : ""; }

std::string Stream::tls_cipher() const { return ssl_ ? SSL_get_cipher_name(ssl_) : ""; }

}  // namespace smtp_listen
