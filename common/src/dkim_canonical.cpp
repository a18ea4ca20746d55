#include "relay/dkim_canonical.hpp"

#include <cctype>
#include <cstdint>
#include <cstring>

namespace relay::dkim {

namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// Calls line(content) for each line of text, without its CRLF or LF; the last line counts
// even without a line end.
template <typename Fn>
void for_each_line(std::string_view text, Fn&& line) {
  size_t start = 0;
  while (start < text.size()) {
    size_t lf = text.find('\n', start);
    size_t end = lf == std::string_view::npos ? text.size() : lf;
    size_t content_end = (end > start && lf != std::string_view::npos && text[end - 1] == '\r') ? end - 1 : end;
    line(text.substr(start, content_end - start));
    start = lf == std::string_view::npos ? text.size() : lf + 1;
  }
}

// 3.4.4 per line: whitespace runs become one space, trailing whitespace goes. Written
// through a pointer into space reserved up front: this loop is most of a signature's cost
// that is not cryptography.
void append_relaxed_line(std::string& out, std::string_view line) {
  // Most lines are already relaxed: no tab, no double space, no trailing space.
  if (line.find('\t') == std::string_view::npos && line.find("  ") == std::string_view::npos &&
      (line.empty() || line.back() != ' ')) {
    out.append(line);
    return;
  }
  size_t start = out.size();
  out.resize(start + line.size());
  char* to = out.data() + start;
  bool pending_space = false;
  for (char c : line) {
    if (c == ' ' || c == '\t') {
      pending_space = true;
      continue;
    }
    if (pending_space) *to++ = ' ';
    pending_space = false;
    *to++ = c;
  }
  out.resize(static_cast<size_t>(to - out.data()));
}

}  // namespace

std::string_view to_string(Canon canon) { return canon == Canon::kSimple ? "simple" : "relaxed"; }

std::string canonical_header(std::string_view raw, Canon canon, bool with_line_end) {
  if (!raw.empty() && raw.back() == '\n') raw.remove_suffix(1);
  if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
  std::string out;
  out.reserve(raw.size() + 2);
  if (canon == Canon::kSimple) {
    bool first = true;
    for_each_line(raw, [&](std::string_view line) {
      if (!first) out += "\r\n";
      first = false;
      out.append(line);
    });
  } else {
    // 3.4.2: lower-case name, no whitespace around the colon, unfolded value with whitespace
    // runs as one space and none at the end.
    size_t colon = raw.find(':');
    std::string_view name = raw.substr(0, colon);
    while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
    for (char c : name) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    out.push_back(':');
    if (colon != std::string_view::npos) {
      std::string unfolded;
      for_each_line(raw.substr(colon + 1), [&](std::string_view line) { unfolded.append(line); });
      std::string value;
      append_relaxed_line(value, unfolded);
      if (!value.empty() && value.front() == ' ') value.erase(0, 1);
      out += value;
    }
  }
  if (with_line_end) out += "\r\n";
  return out;
}

std::string canonical_body(std::string_view body, Canon canon) {
  std::string out;
  out.reserve(body.size() + body.size() / 16 + 2);
  size_t empty_lines = 0;  // held back: empty lines at the end of the body are dropped
  for_each_line(body, [&](std::string_view line) {
    bool blank = canon == Canon::kSimple ? line.empty()
                                         : line.find_first_not_of(" \t") == std::string_view::npos;
    if (blank) {
      ++empty_lines;
      return;
    }
    for (; empty_lines > 0; --empty_lines) out += "\r\n";
    if (canon == Canon::kSimple)
      out.append(line);
    else
      append_relaxed_line(out, line);
    out += "\r\n";
  });
  // 3.4.3: a simple body is never empty; 3.4.4: a relaxed one may be.
  if (out.empty() && canon == Canon::kSimple) out = "\r\n";
  return out;
}

namespace {

// Whether the byte pair (c, next) at some position shows a body canonicalization would change:
// a bare LF (next is LF, c is not CR), or for relaxed a tab, a run of spaces, a space before CR.
inline bool changes(char c, char next, bool relaxed) {
  if (next == '\n' && c != '\r') return true;
  return relaxed && (c == '\t' || (c == ' ' && (next == ' ' || next == '\r')));
}

// The same test on 16 pairs at once (GCC/Clang vector extensions: SSE2 on x86-64, NEON on
// ARM): a byte loop over a 10 KB body costs as much as a tenth of an ed25519 signature.
using Bytes16 = signed char __attribute__((vector_size(16)));

bool any_change(const char* p, size_t size, bool relaxed) {
  size_t i = 0;  // pairs (p[i], p[i + 1]) for i + 1 < size
  Bytes16 found = {};
  for (; i + 17 <= size; i += 16) {
    Bytes16 c, next;
    std::memcpy(&c, p + i, 16);
    std::memcpy(&next, p + i + 1, 16);
    found |= (next == '\n') & (c != '\r');
    if (relaxed) found |= (c == '\t') | ((c == ' ') & ((next == ' ') | (next == '\r')));
  }
  uint64_t halves[2];
  std::memcpy(halves, &found, sizeof halves);
  if ((halves[0] | halves[1]) != 0) return true;
  for (; i + 1 < size; ++i)
    if (changes(p[i], p[i + 1], relaxed)) return true;
  return false;
}

}  // namespace

std::optional<std::string_view> canonical_body_in_place(std::string_view body, Canon canon) {
  const bool relaxed = canon == Canon::kRelaxed;
  if (body.empty()) return relaxed ? std::optional<std::string_view>(body) : std::nullopt;
  // Ending with CRLF: the last byte is covered as the second of a pair, and a first LF is bare.
  if (body.size() < 2 || body.substr(body.size() - 2) != "\r\n" || body.front() == '\n') return std::nullopt;
  if (any_change(body.data(), body.size(), relaxed)) return std::nullopt;
  size_t end = body.size();
  while (end >= 4 && body.substr(end - 4, 4) == "\r\n\r\n") end -= 2;  // trailing empty lines
  if (end == 2 && relaxed) return body.substr(0, 0);  // only empty lines: relaxed keeps none
  return body.substr(0, end);
}

}  // namespace relay::dkim
