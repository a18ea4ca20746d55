#include "command.hpp"

#include <algorithm>
#include <cctype>

namespace smtp_listen {
namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool is_hex_upper(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

}  // namespace

Command parse_command(std::string_view line) {
  while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
  size_t space = line.find(' ');
  Command command;
  command.verb = upper(line.substr(0, space));
  if (space != std::string_view::npos) command.argument = std::string(line.substr(space + 1));
  return command;
}

std::optional<PathArgument> parse_path_argument(std::string_view argument, std::string_view keyword) {
  if (argument.size() < keyword.size() || upper(argument.substr(0, keyword.size())) != keyword) return std::nullopt;
  argument.remove_prefix(keyword.size());
  while (!argument.empty() && argument.front() == ' ') argument.remove_prefix(1);
  if (argument.empty() || argument.front() != '<') return std::nullopt;
  // The path ends at the first '>' outside a quoted string (a quoted local part may hold '>').
  size_t end = std::string_view::npos;
  bool quoted = false;
  for (size_t i = 1; i < argument.size(); ++i) {
    char c = argument[i];
    if (quoted && c == '\\') {
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == '>' && !quoted) {
      end = i;
      break;
    }
  }
  if (end == std::string_view::npos) return std::nullopt;
  PathArgument result;
  result.path = std::string(argument.substr(0, end + 1));
  std::string_view rest = argument.substr(end + 1);
  if (!rest.empty() && rest.front() != ' ') return std::nullopt;
  while (!rest.empty()) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (rest.empty()) break;
    size_t space = rest.find(' ');
    std::string_view word = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space);
    size_t equals = word.find('=');
    std::string_view name = word.substr(0, equals);
    if (name.empty()) return std::nullopt;
    std::string value = equals == std::string_view::npos ? std::string() : std::string(word.substr(equals + 1));
    result.params.emplace_back(upper(name), std::move(value));
  }
  return result;
}

bool valid_xtext(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = text[i];
    if (c == '+') {
      if (i + 2 >= text.size() || !is_hex_upper(text[i + 1]) || !is_hex_upper(text[i + 2])) return false;
      i += 2;
    } else if (c < 33 || c > 126 || c == '=') {
      return false;
    }
  }
  return true;
}

bool valid_orcpt(std::string_view value, bool utf8) {
  size_t semicolon = value.find(';');
  if (semicolon == 0 || semicolon == std::string_view::npos || semicolon + 1 == value.size()) return false;
  std::string_view type = value.substr(0, semicolon);
  if (!std::all_of(type.begin(), type.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; }))
    return false;
  std::string_view address = value.substr(semicolon + 1);
  if (!utf8) return valid_xtext(address);
  // utf-8-addr-xtext / unitext: no controls, spaces or '='; '\x{...}' and '+XX' escapes pass as text.
  return std::none_of(address.begin(), address.end(), [](char c) {
    unsigned char u = c;
    return u <= 32 || u == 127 || u == '=';
  });
}

std::optional<std::string> normalize_notify(std::string_view value) {
  std::string all = upper(value);
  if (all == "NEVER") return all;
  if (all.empty()) return std::nullopt;
  std::vector<std::string> seen;
  size_t start = 0;
  while (start <= all.size()) {
    size_t comma = all.find(',', start);
    std::string word = all.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (word != "SUCCESS" && word != "FAILURE" && word != "DELAY") return std::nullopt;
    if (std::find(seen.begin(), seen.end(), word) != seen.end()) return std::nullopt;
    seen.push_back(word);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return all;
}

}  // namespace smtp_listen
