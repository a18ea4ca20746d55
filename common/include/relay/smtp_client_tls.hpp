#pragma once
// The TLS side of the SMTP client (OpenSSL): one client context per process, the per-
// destination policy, and what a finished handshake tells the log.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

typedef struct ssl_ctx_st SSL_CTX;

namespace relay::smtp {

// none: never STARTTLS. may: STARTTLS when offered, any certificate, plaintext after a failed
// handshake. encrypt: TLS required, any certificate. verify: TLS required, the chain must
// verify and the certificate name must match the host name the mail was routed to.
enum class TlsPolicy { kNone, kMay, kEncrypt, kVerify };
std::optional<TlsPolicy> parse_tls_policy(std::string_view text);
std::string_view to_string(TlsPolicy policy);
inline bool tls_required(TlsPolicy p) { return p == TlsPolicy::kEncrypt || p == TlsPolicy::kVerify; }

class TlsClientContext {
 public:
  // ca_file: PEM trust anchors; empty uses the system's default store.
  explicit TlsClientContext(const std::string& ca_file);
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;
  SSL_CTX* get() const { return ctx_; }

 private:
  SSL_CTX* ctx_ = nullptr;
};

struct TlsInfo {
  bool active = false;
  std::string version;   // "TLSv1.3"
  std::string cipher;    // "TLS_AES_256_GCM_SHA384"
  bool verified = false; // chain and name verified against the routed host name
  std::string verify_error;  // why not, when not
  // For logs: "none", or "TLSv1.3:TLS_AES_256_GCM_SHA384:verified" / ":unverified".
  std::string summary() const;
};

}  // namespace relay::smtp
