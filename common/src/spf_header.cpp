// Result names and the Received-SPF header field (RFC 7208 9.1).
#include <cctype>

#include <fmt/format.h>

#include "relay/spf.hpp"

namespace relay::spf {
namespace {

// A value as RFC 5322 dot-atom when it is one, else as a quoted-string.
std::string header_value(std::string_view value) {
  bool atom = !value.empty() && value.front() != '.' && value.back() != '.' &&
              value.find("..") == std::string_view::npos;
  for (unsigned char c : value)
    if (!(std::isalnum(c) || std::string_view("!#$%&'*+-/=?^_`{|}~.").find(static_cast<char>(c)) != std::string_view::npos))
      atom = false;
  if (atom) return std::string(value);
  std::string quoted = "\"";
  for (unsigned char c : value) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += (c < 0x20 || c > 0x7e) ? '?' : static_cast<char>(c);
  }
  return quoted + "\"";
}

// Text inside a header comment: printable ASCII without parentheses or backslashes.
std::string comment_text(std::string_view text) {
  std::string out;
  for (unsigned char c : text) out += (c < 0x20 || c > 0x7e || c == '(' || c == ')' || c == '\\') ? '?' : static_cast<char>(c);
  return out;
}

std::string comment(const Verdict& verdict, const Query& query, std::string_view sender) {
  std::string ip = query.ip;
  switch (verdict.result) {
    case Result::kPass: return fmt::format("domain of {} designates {} as permitted sender", sender, ip);
    case Result::kFail: return fmt::format("domain of {} does not designate {} as permitted sender", sender, ip);
    case Result::kSoftFail:
      return fmt::format("domain of transitioning {} does not designate {} as permitted sender", sender, ip);
    case Result::kNeutral: return fmt::format("{} is neither permitted nor denied by domain of {}", ip, sender);
    case Result::kNone: return fmt::format("domain of {} does not provide an SPF record", sender);
    case Result::kTempError:
    case Result::kPermError: return fmt::format("error in processing during lookup of {}: {}", sender, verdict.problem);
  }
  return "";
}

}  // namespace

std::string_view to_string(Result result) {
  switch (result) {
    case Result::kNone: return "none";
    case Result::kNeutral: return "neutral";
    case Result::kPass: return "pass";
    case Result::kFail: return "fail";
    case Result::kSoftFail: return "softfail";
    case Result::kTempError: return "temperror";
    case Result::kPermError: return "permerror";
  }
  return "unknown";
}

std::string received_spf_header(const Verdict& verdict, const Query& query) {
  std::string sender = query.sender.empty() ? "postmaster@" + query.helo : query.sender;
  std::vector<std::string> parts;
  parts.push_back(fmt::format("Received-SPF: {}", to_string(verdict.result)));
  std::string note = comment_text(fmt::format("{}: {}", query.receiver, comment(verdict, query, sender)));
  parts.push_back("(" + note + ")");
  std::vector<std::pair<std::string_view, std::string>> fields = {
      {"client-ip", query.ip}, {"envelope-from", query.sender.empty() ? "" : query.sender},
      {"helo", query.helo},    {"receiver", query.receiver},
      {"identity", verdict.identity}};
  if (!verdict.mechanism.empty()) fields.emplace_back("mechanism", verdict.mechanism);
  if (!verdict.problem.empty()) fields.emplace_back("problem", verdict.problem);
  for (const auto& [key, value] : fields) parts.push_back(fmt::format("{}={};", key, header_value(value)));
  // Fold between the parts so that lines stay near 78 characters.
  std::string header;
  size_t line_length = 0;
  for (const std::string& part : parts) {
    if (header.empty()) {
      header = part;
      line_length = part.size();
    } else if (line_length + 1 + part.size() > 78) {
      header += "\n\t" + part;
      line_length = 8 + part.size();
    } else {
      header += " " + part;
      line_length += 1 + part.size();
    }
  }
  if (header.ends_with(';')) header.pop_back();
  return header;
}

}  // namespace relay::spf
