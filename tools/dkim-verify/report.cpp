#include "report.hpp"

#include <cctype>
#include <fmt/format.h>

#include "relay/json.hpp"
#include "relay/log.hpp"

namespace relay::dkim {

namespace {

// RFC 8601 values: a token, a pvalue such as "@example.com", or else a quoted string.
std::string ar_value(const std::string& value) {
  bool plain = !value.empty();
  for (unsigned char c : value)
    if (!std::isalnum(c) && std::string_view("-._@+").find(static_cast<char>(c)) == std::string_view::npos) plain = false;
  if (plain) return value;
  std::string quoted = "\"";
  for (char c : log::sanitize(value)) {
    if (c == '"' || c == '\\') quoted.push_back('\\');
    quoted.push_back(c);
  }
  return quoted + "\"";
}

}  // namespace

std::string text_report(const std::string& file, const std::vector<SignatureResult>& results) {
  std::string prefix = file.empty() ? "" : file + ": ";
  if (results.empty()) return prefix + "none\n";
  std::string out;
  for (const auto& r : results) {
    out += fmt::format("{}{} d={} s={} a={}", prefix, to_string(r.result), log::sanitize(r.domain),
                       log::sanitize(r.selector), r.algorithm);
    if (r.key_bits) out += fmt::format(" bits={}", r.key_bits);
    if (!r.reason.empty()) out += fmt::format(" reason=\"{}\"", log::sanitize(r.reason));
    out += "\n";
  }
  return out;
}

std::string json_report(const std::string& file, const std::vector<SignatureResult>& results) {
  auto base = [&] {
    JsonObject o;
    if (!file.empty()) o.add("file", file);
    return o;
  };
  if (results.empty()) return base().add("result", "none").str() + "\n";
  std::string out;
  for (const auto& r : results) {
    JsonObject o = base();
    o.add("result", to_string(r.result))
        .add("domain", r.domain)
        .add("selector", r.selector)
        .add("identity", r.identity)
        .add("algorithm", r.algorithm)
        .add("key_bits", static_cast<int64_t>(r.key_bits))
        .add("reason", r.reason);
    out += o.str() + "\n";
  }
  return out;
}

std::string auth_results_field(const std::string& authserv_id, const std::vector<SignatureResult>& results) {
  std::string out = "Authentication-Results: " + authserv_id;
  if (results.empty()) return out + ";\n\tdkim=none\n";
  for (const auto& r : results) {
    out += fmt::format(";\n\tdkim={}", to_string(r.result));
    if (!r.reason.empty()) out += fmt::format(" reason={}", ar_value(r.reason));
    out += fmt::format(" header.d={} header.i={} header.s={} header.a={}", ar_value(r.domain),
                       ar_value(r.identity), ar_value(r.selector), ar_value(r.algorithm));
  }
  return out + "\n";
}

}  // namespace relay::dkim
