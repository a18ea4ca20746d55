#pragma once
// SPF macro strings (RFC 7208 section 7): syntax and expansion.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "spf_address.hpp"

namespace relay::spf {

struct MacroContext {
  std::string sender;         // %{s}
  std::string local_part;     // %{l}
  std::string sender_domain;  // %{o}
  std::string domain;         // %{d}: the domain being evaluated
  std::string helo;           // %{h}
  std::string receiver;       // %{r}
  Address ip;                 // %{i} %{c} %{v}
  int64_t now = 0;            // %{t}
  std::function<std::string()> validated_name;  // %{p}: looked up only when used
};

enum class MacroUse { kDomainSpec, kExplanation };

// Expands text; with context == nullptr only checks the syntax. On a syntax error returns
// nullopt and sets *error. Explanations may also hold spaces and the c, r and t macros.
std::optional<std::string> expand_macros(std::string_view text, const MacroContext* context, MacroUse use,
                                         std::string* error);

}  // namespace relay::spf
