#include "auth.hpp"

#include <crypt.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "relay/exit_codes.hpp"
#include "relay/secret_file.hpp"

namespace smtp_listen {
namespace {

// Hashed when the user is unknown, so a probe cannot tell users from non-users by timing.
constexpr const char* kDecoyHash =
    "$6$decoysaltdecoys$Nh0aRj8XrS5K3LsUq1CzPp4bXc6JvQm7T2dWf9yGkE0oHiL5uVaZbYnM8sDtRxFwJeKg1lOqC3B7N4P6A2Ic/.";

}  // namespace

std::shared_ptr<const AuthFile> AuthFile::load(const std::string& path) {
  std::string text = relay::read_secret_file(path, "auth file");
  auto file = std::make_shared<AuthFile>();
  size_t start = 0;
  int number = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    size_t colon = line.find(':');
    std::string_view user = line.substr(0, colon);
    std::string_view hash = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    hash = hash.substr(0, hash.find(':'));  // later fields (as in passwd-like files) are ignored
    if (user.empty() || hash.size() < 4 || hash.front() != '$')
      throw relay::Failure(relay::kExitConfig, "unable to read auth file " + path + ": line " +
                                                   std::to_string(number) + " is not user:$id$hash");
    file->hashes_[std::string(user)] = std::string(hash);
  }
  return file;
}

bool AuthFile::verify(std::string_view user, std::string_view password) const {
  auto found = hashes_.find(std::string(user));
  const std::string hash = found == hashes_.end() ? std::string(kDecoyHash) : found->second;
  if (password.find('\0') != std::string_view::npos) return false;
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const char* result = crypt_r(std::string(password).c_str(), hash.c_str(), data.get());
  if (result == nullptr || result[0] == '*') return false;
  bool same = std::strlen(result) == hash.size() && CRYPTO_memcmp(result, hash.data(), hash.size()) == 0;
  return same && found != hashes_.end();
}

std::optional<Credentials> parse_sasl_plain(std::string_view decoded) {
  size_t first = decoded.find('\0');
  if (first == std::string_view::npos) return std::nullopt;
  size_t second = decoded.find('\0', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  std::string_view authzid = decoded.substr(0, first);
  Credentials credentials{std::string(decoded.substr(first + 1, second - first - 1)),
                          std::string(decoded.substr(second + 1))};
  if (credentials.user.empty() || (!authzid.empty() && authzid != credentials.user)) return std::nullopt;
  return credentials;
}

}  // namespace smtp_listen
