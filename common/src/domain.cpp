#include "relay/domain.hpp"

#include <libpsl.h>

#include "relay/headers.hpp"

namespace relay {

std::string normalize_domain(std::string_view domain) {
  std::string out = to_lower(domain);
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

std::string organizational_domain(std::string_view domain) {
  // Loaded once and only read after: safe across threads.
  static const psl_ctx_t* const list = [] {
    const psl_ctx_t* latest = psl_latest(nullptr);
    return latest ? latest : psl_builtin();
  }();
  std::string name = normalize_domain(domain);
  if (list == nullptr) return name;
  const char* registrable = psl_registrable_domain(list, name.c_str());
  return registrable ? std::string(registrable) : name;
}

}  // namespace relay
