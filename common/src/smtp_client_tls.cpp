#include "relay/smtp_client_tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "relay/exit_codes.hpp"

namespace relay::smtp {

std::optional<TlsPolicy> parse_tls_policy(std::string_view text) {
  if (text == "none") return TlsPolicy::kNone;
  if (text == "may") return TlsPolicy::kMay;
  if (text == "encrypt") return TlsPolicy::kEncrypt;
  if (text == "verify") return TlsPolicy::kVerify;
  return std::nullopt;
}

std::string_view to_string(TlsPolicy policy) {
  switch (policy) {
    case TlsPolicy::kNone: return "none";
    case TlsPolicy::kMay: return "may";
    case TlsPolicy::kEncrypt: return "encrypt";
    case TlsPolicy::kVerify: return "verify";
  }
  return "?";
}

TlsClientContext::TlsClientContext(const std::string& ca_file) {
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (!ctx_) throw Failure(kExitTemporary, "unable to create the TLS client context");
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  // Verification happens for every session so the log can say whether the peer was
  // verified; only the verify policy acts on the result (after the handshake).
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
  int loaded = ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx_)
                               : SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr);
  if (loaded != 1) {
    SSL_CTX_free(ctx_);
    throw Failure(kExitConfig, "unable to load the TLS trust anchors " +
                                   (ca_file.empty() ? std::string("(system default)") : ca_file));
  }
}

TlsClientContext::~TlsClientContext() { SSL_CTX_free(ctx_); }

std::string TlsInfo::summary() const {
  if (!active) return "none";
  return version + ":" + cipher + (verified ? ":verified" : ":unverified");
}

}  // namespace relay::smtp
