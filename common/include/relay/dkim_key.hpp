#pragma once
// DKIM private keys (RSA, Ed25519) as dkim-sign and dkim-keygen load them, and the public
// key record (RFC 6376 3.6.1, RFC 8463 4) that goes into DNS for them.
#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

namespace relay::dkim {

enum class KeyType { kRsa, kEd25519 };

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PkeyPtr = std::shared_ptr<EVP_PKEY>;

struct PrivateKey {
  PkeyPtr pkey;
  KeyType type = KeyType::kRsa;
  unsigned bits = 0;   // modulus size for RSA, 256 for Ed25519
  std::string path;
};

// "rsa-sha256" or "ed25519-sha256": the a= value a key signs with.
std::string_view signing_algorithm(KeyType type);
// "rsa" or "ed25519": the k= value of its record.
std::string_view key_type_name(KeyType type);

// Reads a PEM private key. Throws Failure: kExitPermission when the file is readable or
// writable by group or others (or cannot be opened for lack of permission), kExitConfig when
// it is not an RSA or Ed25519 private key, kExitTemporary on other read errors.
PrivateKey load_private_key(const std::string& path);

// The TXT record text for the public half: "v=DKIM1; h=sha256; k=rsa; t=s; p=<base64>".
// flags is the t= value (RFC 6376 3.6.1: "s" no subdomains, "y" testing), empty for none.
std::string public_key_record(const PrivateKey& key, std::string_view flags);

// Base64 without line breaks.

}  // namespace relay::dkim
