#pragma once
// Reading one JSON object per line (bounce-parse --json output): the top-level string, number
// and boolean members; nested values are checked for syntax and skipped.
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace relay_policy {

struct JsonScalar {
  enum class Kind { kString, kNumber, kBool, kNull } kind = Kind::kNull;
  std::string text;  // the string's value, the number as written, "true"/"false"
};

// nullopt with error set when line is not one JSON object.
std::optional<std::map<std::string, JsonScalar>> parse_json_object(std::string_view line, std::string* error);

}  // namespace relay_policy
