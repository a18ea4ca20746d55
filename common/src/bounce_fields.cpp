// Small text helpers of the bounce readers, and the one place recipients are classified.
#include <algorithm>

#include "bounce_internal.hpp"

namespace relay::bounce::detail {
namespace {

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool is_address_char(char c) {
  return static_cast<unsigned char>(c) > ' ' && c != '<' && c != '>' && c != '(' && c != ')' && c != '"' &&
         c != ',' && c != ';' && c != '[' && c != ']';
}

// Specific beats generic: "5.0.0" in Status with "5.1.1" in the diagnostic means 5.1.1.
bool is_generic(std::string_view status) { return status.size() >= 5 && status.substr(1) == ".0.0"; }

}  // namespace

std::string FieldBlock::get(std::string_view name) const {
  for (const auto& [n, v] : fields)
    if (iequals(n, name)) return v;
  return "";
}

std::vector<std::string> FieldBlock::get_all(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [n, v] : fields)
    if (iequals(n, name)) out.push_back(v);
  return out;
}

bool FieldBlock::has(std::string_view name) const {
  return std::any_of(fields.begin(), fields.end(), [&](const auto& f) { return iequals(f.first, name); });
}

std::vector<FieldBlock> read_field_blocks(std::string_view text, size_t max_blocks) {
  std::vector<FieldBlock> blocks;
  while (!text.empty() && blocks.size() < max_blocks) {
    HeaderBlock header(text);
    if (header.fields().empty()) {
      // A blank line between blocks, or a line that is no field: skip one line.
      size_t skip = header.body_offset();
      if (skip == 0) {
        size_t nl = text.find('\n');
        skip = nl == std::string_view::npos ? text.size() : nl + 1;
      }
      text.remove_prefix(skip);
      continue;
    }
    FieldBlock block;
    for (const HeaderField& field : header.fields()) block.fields.emplace_back(std::string(field.name), one_line(field.value()));
    blocks.push_back(std::move(block));
    text.remove_prefix(std::max<size_t>(header.body_offset(), 1));
  }
  return blocks;
}

std::string strip_type(std::string_view value) {
  size_t semicolon = value.find(';');
  if (semicolon != std::string_view::npos) value.remove_prefix(semicolon + 1);
  std::string out = one_line(value);
  if (out.size() >= 2 && out.front() == '<' && out.back() == '>') out = out.substr(1, out.size() - 2);
  return out;
}

std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (is_space(c)) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string find_address(std::string_view text) {
  for (size_t at = text.find('@'); at != std::string_view::npos; at = text.find('@', at + 1)) {
    size_t start = at;
    while (start > 0 && is_address_char(text[start - 1])) --start;
    size_t end = at + 1;
    while (end < text.size() && is_address_char(text[end])) ++end;
    std::string_view candidate = text.substr(start, end - start);
    if (starts_with_nocase(candidate, "mailto:")) candidate.remove_prefix(7);
    while (!candidate.empty() && (candidate.back() == '.' || candidate.back() == ':' || candidate.back() == '\''))
      candidate.remove_suffix(1);
    while (!candidate.empty() && candidate.front() == '\'') candidate.remove_prefix(1);
    size_t a = candidate.find('@');
    if (a == std::string_view::npos || a == 0 || a + 1 >= candidate.size()) continue;
    if (candidate.size() > 320) continue;
    return std::string(candidate);
  }
  return "";
}

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

bool contains_nocase(std::string_view text, std::string_view needle) {
  // ASCII folding only (the phrases are ASCII), and a scan for the first letter before any
  // comparison: this runs for every line against every marker, so it is kept cheap.
  if (needle.empty()) return true;
  if (needle.size() > text.size()) return false;
  const char lower = ascii_lower(needle[0]);
  const char upper = lower >= 'a' && lower <= 'z' ? static_cast<char>(lower - 32) : lower;
  for (size_t i = 0, last = text.size() - needle.size(); i <= last; ++i) {
    if (text[i] != lower && text[i] != upper) continue;
    size_t k = 1;
    while (k < needle.size() && ascii_lower(text[i + k]) == ascii_lower(needle[k])) ++k;
    if (k == needle.size()) return true;
  }
  return false;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

void complete(Recipient& r) {
  r.diagnostic = one_line(r.diagnostic);
  if (r.smtp_code == 0) r.smtp_code = find_smtp_code(r.diagnostic);
  std::string from_text = find_status(r.diagnostic);
  if (!from_text.empty() && (r.status.empty() || (is_generic(r.status) && from_text[0] == r.status[0])))
    r.status = from_text;
  if (r.status.empty() && r.smtp_code >= 400) r.status = std::to_string(r.smtp_code / 100) + ".0.0";
  if (r.action.empty()) r.action = !r.status.empty() && r.status[0] == '4' ? "delayed" : "failed";
  if (r.reason == Reason::kOther) r.reason = classify(r.status, r.diagnostic);
  r.hard = is_hard(r.reason, r.status, r.smtp_code, r.action);
}

}  // namespace relay::bounce::detail
