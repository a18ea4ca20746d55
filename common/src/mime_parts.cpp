// The part tree of a MIME message (RFC 2046): multipart bodies split at their boundary lines,
// enclosed messages parsed in place. Bounded by Limits, so a hostile message costs little.
#include <algorithm>

#include "relay/mime.hpp"

namespace relay::mime {
namespace {

// Where the line starting at pos ends (past its line end).
size_t next_line(std::string_view text, size_t pos) {
  size_t nl = text.find('\n', pos);
  return nl == std::string_view::npos ? text.size() : nl + 1;
}

// True when the line at pos is "--boundary" or "--boundary--" (trailing whitespace allowed).
// closing is set for the latter.
bool is_delimiter(std::string_view body, size_t pos, std::string_view boundary, bool& closing) {
  if (body.substr(pos, 2) != "--" || body.substr(pos + 2, boundary.size()) != boundary) return false;
  size_t after = pos + 2 + boundary.size();
  closing = body.substr(after, 2) == "--";
  if (closing) after += 2;
  for (; after < body.size() && body[after] != '\n'; ++after)
    if (body[after] != ' ' && body[after] != '\t' && body[after] != '\r') return false;
  return true;
}

// The body between delimiter lines, without the line end that belongs to the next delimiter.
std::string_view trim_final_line_end(std::string_view part) {
  if (!part.empty() && part.back() == '\n') part.remove_suffix(1);
  if (!part.empty() && part.back() == '\r') part.remove_suffix(1);
  return part;
}

std::vector<std::string_view> split_multipart(std::string_view body, std::string_view boundary, size_t max_parts) {
  std::vector<std::string_view> parts;
  if (boundary.empty() || boundary.size() > 200) return parts;
  size_t start = std::string_view::npos;  // start of the current part, npos in the preamble
  for (size_t pos = 0; pos < body.size(); pos = next_line(body, pos)) {
    bool closing = false;
    if (body[pos] != '-' || !is_delimiter(body, pos, boundary, closing)) continue;
    if (start != std::string_view::npos) parts.push_back(trim_final_line_end(body.substr(start, pos - start)));
    if (closing || parts.size() >= max_parts) return parts;
    start = next_line(body, pos);
  }
  if (start != std::string_view::npos && start < body.size()) parts.push_back(body.substr(start));
  return parts;
}

class TreeBuilder {
 public:
  explicit TreeBuilder(const Limits& limits) : limits_(limits) {}

  Part build(std::string_view text, size_t depth, bool digest_default) {
    Part part(text);
    ++parts_;
    if (const HeaderField* ct = part.headers.find("Content-Type"))
      part.content_type = parse_content_type(ct->value());
    else if (digest_default)
      part.content_type = parse_content_type("message/rfc822");
    if (depth >= limits_.max_depth) return part;

    const bool encoded = part.transfer_encoding != "7bit" && part.transfer_encoding != "8bit" &&
                         part.transfer_encoding != "binary";
    if (part.content_type.is_multipart()) {
      bool digest = part.content_type.subtype == "digest";
      for (std::string_view child : split_multipart(part.body, part.content_type.param("boundary"), limits_.max_parts)) {
        if (parts_ >= limits_.max_parts) break;
        part.children.push_back(build(child, depth + 1, digest));
      }
    } else if (part.content_type.type == "message" && !encoded &&
               (part.content_type.subtype == "rfc822" || part.content_type.subtype == "global")) {
      if (parts_ < limits_.max_parts) part.children.push_back(build(part.body, depth + 1, false));
    }
    return part;
  }

 private:
  const Limits& limits_;
  size_t parts_ = 0;
};

}  // namespace

Part::Part(std::string_view text) : raw(text), headers(text) {
  body = text.substr(std::min(headers.body_offset(), text.size()));
  if (const HeaderField* cte = headers.find("Content-Transfer-Encoding")) transfer_encoding = to_lower(cte->value());
  if (transfer_encoding.empty()) transfer_encoding = "7bit";
}

std::string Part::header(std::string_view name) const {
  const HeaderField* field = headers.find(name);
  return field ? field->value() : std::string();
}

std::string Part::decoded() const {
  if (transfer_encoding == "base64") return decode_base64(body);
  if (transfer_encoding == "quoted-printable") return decode_quoted_printable(body);
  return std::string(body);
}

std::string Part::text() const { return to_utf8(decoded(), content_type.param("charset")); }

Part parse(std::string_view message, const Limits& limits) {
  TreeBuilder builder(limits);
  return builder.build(message, 0, false);
}

}  // namespace relay::mime
