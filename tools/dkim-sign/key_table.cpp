#include "key_table.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <sstream>

#include "relay/address.hpp"
#include "relay/exit_codes.hpp"
#include "relay/headers.hpp"

namespace relay::dkim {

namespace {

constexpr size_t kMaxLineLength = 4096;
constexpr size_t kMaxRows = 100000;

// RFC 6376 3.1: a selector is dot-separated sub-domains (letters, digits, hyphens).
bool valid_selector(const std::string& selector) {
  return !selector.empty() && selector.size() <= 253 && valid_domain(selector, false);
}

std::string directory_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
}

}  // namespace

KeyTable KeyTable::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    int err = errno;
    throw Failure(err == EACCES || err == EPERM ? kExitPermission : kExitConfig,
                  fmt::format("unable to open key table {}: {}", path, std::strerror(err)));
  }
  KeyTable table;
  std::map<std::string, PrivateKey> loaded;  // a key file named by several rows is read once
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    auto fail = [&](const std::string& why) {
      return Failure(kExitConfig, fmt::format("unable to read key table {} line {}: {}", path, number, why));
    };
    if (line.size() > kMaxLineLength) throw fail("line longer than 4096 bytes");
    size_t hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    std::istringstream fields(line);
    std::string pattern, selector, key_path, extra;
    if (!(fields >> pattern)) continue;
    if (!(fields >> selector >> key_path)) throw fail("expected: DOMAIN SELECTOR KEYFILE");
    if (fields >> extra) throw fail("unexpected field \"" + extra + "\"");
    pattern = to_lower(pattern);
    std::string base = pattern.rfind("*.", 0) == 0 ? pattern.substr(2) : pattern;
    if (!valid_domain(base, false) || is_address_literal(base)) throw fail("invalid domain \"" + pattern + "\"");
    if (!valid_selector(selector)) throw fail("invalid selector \"" + selector + "\"");
    if (table.keys_.size() >= kMaxRows) throw fail("more than 100000 rows");
    if (key_path.front() != '/') key_path = directory_of(path) + "/" + key_path;
    auto it = loaded.find(key_path);
    if (it == loaded.end()) it = loaded.emplace(key_path, load_private_key(key_path)).first;
    if (it->second.type == KeyType::kRsa && it->second.bits < 1024)  // RFC 8301 3.2
      throw fail(fmt::format("{} is an RSA key of {} bits; at least 1024 are needed", key_path, it->second.bits));
    table.keys_.push_back({pattern, selector, it->second});
  }
  if (in.bad()) throw Failure(kExitConfig, fmt::format("unable to read key table {}: read error", path));
  return table;
}

std::vector<SigningChoice> KeyTable::lookup(const std::string& domain) const {
  std::vector<SigningChoice> exact, wildcard;
  size_t wildcard_length = 0;
  for (const auto& row : keys_) {
    if (row.pattern == domain) {
      exact.push_back({domain, &row});
      continue;
    }
    if (row.pattern.rfind("*.", 0) != 0) continue;
    std::string base = row.pattern.substr(2);
    bool covers = domain.size() > base.size() + 1 && domain.ends_with(base) &&
                  domain[domain.size() - base.size() - 1] == '.';
    if (!covers || base.size() < wildcard_length) continue;
    if (base.size() > wildcard_length) wildcard.clear();
    wildcard_length = base.size();
    wildcard.push_back({base, &row});
  }
  return exact.empty() ? wildcard : exact;
}

}  // namespace relay::dkim
