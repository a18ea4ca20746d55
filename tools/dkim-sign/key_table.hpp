#pragma once
// The key table of dkim-sign(8): which selector and private key sign for which domain.
//   # domain        selector  private key (relative paths: from the table's directory)
//   example.com     s2026r    example.com.s2026r.pem
//   example.com     s2026e    example.com.s2026e.pem      (two rows: two signatures)
//   *.example.org   mail      /etc/relay/dkim/example.org.mail.pem
// An exact row wins over a wildcard; "*.example.org" covers every subdomain of example.org
// (not example.org itself) and signs with d=example.org, where its key is published.
#include <string>
#include <vector>

#include "relay/dkim_key.hpp"

namespace relay::dkim {

struct SigningKey {
  std::string pattern;   // as written: "example.com" or "*.example.org"
  std::string selector;
  PrivateKey key;
};

// One signature to make: d= and the key.
struct SigningChoice {
  std::string domain;
  const SigningKey* key = nullptr;
};

class KeyTable {
 public:
  // Reads the table and loads every key once. Throws Failure: kExitConfig for syntax errors
  // (with file and line), kExitPermission for keys readable by group or others.
  static KeyTable load(const std::string& path);

  // The signatures for a signing domain (lower case): the rows of the exact entry, else of the
  // longest wildcard that covers it; empty when none does.
  std::vector<SigningChoice> lookup(const std::string& domain) const;
  size_t size() const { return keys_.size(); }

 private:
  std::vector<SigningKey> keys_;
};

}  // namespace relay::dkim
