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

namespace relay::dkim {

std::string_view signing_algorithm(KeyType type) {
  return type == KeyType::kRsa ? "rsa-sha256" : "ed25519-sha256";
}

std::string_view key_type_name(KeyType type) { return type == KeyType::kRsa ? "rsa" : "ed25519"; }

PrivateKey load_private_key(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) fail_errno("unable to open private key " + path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    fail_errno("unable to stat private key " + path, err);
  }
  // Checked on the open file, so a chmod between check and read cannot slip through.
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    ::close(fd);
    throw Failure(kExitPermission,
                  fmt::format("unable to load private key {}: readable or writable by group or others (mode {:04o}); "
                              "chmod 600 it",
                              path, st.st_mode & 07777));
  }
  if (!S_ISREG(st.st_mode) || st.st_size > 65536) {
    ::close(fd);
    throw Failure(kExitConfig, fmt::format("unable to load private key {}: not a regular file of at most 64 KiB", path));
  }
  FILE* file = ::fdopen(fd, "r");
  if (!file) {
    int err = errno;
    ::close(fd);
    fail_errno("unable to read private key " + path, err);
  }
  EVP_PKEY* raw = PEM_read_PrivateKey(file, nullptr, nullptr, nullptr);
  std::fclose(file);
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
