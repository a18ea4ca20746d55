#pragma once
// AUTH (RFC 4954): the password file and the SASL PLAIN (RFC 4616) and LOGIN encodings.
// The file holds "user:hash" lines with crypt(3) hashes as mkpasswd(1) or "openssl passwd -6"
// make them (yescrypt "$y$", SHA-512 "$6$", or any other "$id$" scheme libcrypt knows);
// '#' starts a comment. It is refused when group or others may read or write it.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace smtp_listen {

class AuthFile {
 public:
  // Throws relay::Failure: kExitPermission for a bad mode, kExitConfig for a bad line.
  static std::shared_ptr<const AuthFile> load(const std::string& path);

  // Slow on purpose (the hash's cost): call it off the event loop. An unknown user costs the
  // same as a known one.
  bool verify(std::string_view user, std::string_view password) const;
  size_t size() const { return hashes_.size(); }

 private:
  std::unordered_map<std::string, std::string> hashes_;
};


struct Credentials {
  std::string user;
  std::string password;
};

// RFC 4616: [authzid] NUL authcid NUL passwd. An authzid other than the user is refused
// (nobody may act for someone else).
std::optional<Credentials> parse_sasl_plain(std::string_view decoded);

}  // namespace smtp_listen
