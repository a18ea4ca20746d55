#include "relay/dkim_key.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <fmt/format.h>
#include <vector>

#include "relay/base64.hpp"
#include "relay/exit_codes.hpp"
#include "relay/secret_file.hpp"

namespace relay::dkim {

std::string_view signing_algorithm(KeyType type) {
  return type == KeyType::kRsa ? "rsa-sha256" : "ed25519-sha256";
}

std::string_view key_type_name(KeyType type) { return type == KeyType::kRsa ? "rsa" : "ed25519"; }

PrivateKey load_private_key(const std::string& path) {
  std::string pem = read_secret_file(path, "private key", 65536);
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) throw Failure(kExitTemporary, "unable to load private key " + path + ": out of memory");
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  OPENSSL_cleanse(pem.data(), pem.size());
  if (!raw) throw Failure(kExitConfig, fmt::format("unable to load private key {}: not a PEM private key", path));
  PrivateKey key{PkeyPtr(raw, PkeyDeleter{}), KeyType::kRsa, 0, path};
  switch (EVP_PKEY_get_base_id(raw)) {
    case EVP_PKEY_RSA:
      key.type = KeyType::kRsa;
      key.bits = static_cast<unsigned>(EVP_PKEY_get_bits(raw));
      break;
    case EVP_PKEY_ED25519:
      key.type = KeyType::kEd25519;
      key.bits = 256;
      break;
    default:
      throw Failure(kExitConfig, fmt::format("unable to load private key {}: neither RSA nor Ed25519", path));
  }
  return key;
}

std::string public_key_record(const PrivateKey& key, std::string_view flags) {
  std::vector<unsigned char> der;
  if (key.type == KeyType::kRsa) {
    // RFC 6376 3.6.1: p= holds the DER SubjectPublicKeyInfo of an RSA key.
    int size = i2d_PUBKEY(key.pkey.get(), nullptr);
    if (size <= 0) throw Failure(kExitTemporary, "unable to encode public key: OpenSSL error");
    der.resize(static_cast<size_t>(size));
    unsigned char* out = der.data();
    i2d_PUBKEY(key.pkey.get(), &out);
  } else {
    // RFC 8463 4: p= holds the raw 32-byte Ed25519 public key.
    size_t size = 32;
    der.resize(size);
    if (EVP_PKEY_get_raw_public_key(key.pkey.get(), der.data(), &size) != 1 || size != 32)
      throw Failure(kExitTemporary, "unable to encode public key: OpenSSL error");
  }
  return fmt::format("v=DKIM1; h=sha256; k={}; {}p={}", key_type_name(key.type),
                     flags.empty() ? "" : fmt::format("t={}; ", flags),
                     base64_encode(std::string_view(reinterpret_cast<const char*>(der.data()), der.size())));
}

}  // namespace relay::dkim
