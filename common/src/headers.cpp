#include "relay/headers.hpp"

#include <openssl/rand.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

namespace relay {
namespace {

bool is_field_name_char(unsigned char c) { return c > 32 && c < 127 && c != ':'; }

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string HeaderField::value() const {
  std::string_view v = raw.substr(name.size() + 1);
  std::string out;
  out.reserve(v.size());
  for (char c : v)
    if (c != '\r' && c != '\n') out += c;
  size_t start = out.find_first_not_of(" \t");
  size_t end = out.find_last_not_of(" \t");
  return start == std::string::npos ? std::string() : out.substr(start, end - start + 1);
}

HeaderBlock::HeaderBlock(std::string_view message) {
  size_t pos = 0;
  bool first = true;
  while (pos < message.size()) {
    size_t nl = message.find('\n', pos);
    size_t line_end = nl == std::string_view::npos ? message.size() : nl + 1;
    std::string_view line = message.substr(pos, line_end - pos);
    std::string_view content = line;
    while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) content.remove_suffix(1);
    if (first) crlf_ = line.size() >= 2 && line.substr(line.size() - 2) == "\r\n";
    first = false;
    if (content.empty()) {  // the empty line ends the header section
      header_end_ = pos;
      body_offset_ = line_end;
      return;
    }
    if ((content[0] == ' ' || content[0] == '\t') && !fields_.empty()) {
      HeaderField& last = fields_.back();
      last.raw = message.substr(last.offset, line_end - last.offset);
    } else {
      size_t colon = content.find(':');
      bool is_field = colon != std::string_view::npos && colon > 0 &&
                      std::all_of(content.begin(), content.begin() + static_cast<long>(colon),
                                  [](char c) { return is_field_name_char(static_cast<unsigned char>(c)); });
      if (!is_field) {
        // Not a header line: a message that starts with body text. Everything is body.
        if (fields_.empty()) {
          header_end_ = 0;
          body_offset_ = 0;
          malformed_ = true;
          return;
        }
        malformed_ = true;
        header_end_ = pos;
        body_offset_ = pos;
        return;
      }
      fields_.push_back(HeaderField{content.substr(0, colon), line, pos});
    }
    pos = line_end;
  }
  header_end_ = message.size();
  body_offset_ = message.size();
}

const HeaderField* HeaderBlock::find(std::string_view name) const {
  for (const auto& f : fields_)
    if (iequals(f.name, name)) return &f;
  return nullptr;
}

std::vector<const HeaderField*> HeaderBlock::find_all(std::string_view name) const {
  std::vector<const HeaderField*> out;
  for (const auto& f : fields_)
    if (iequals(f.name, name)) out.push_back(&f);
  return out;
}

size_t HeaderBlock::count(std::string_view name) const { return find_all(name).size(); }

std::string local_hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  std::string host = buf;
  for (char& c : host)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') c = '-';
  return host;
}

std::string make_message_id(std::string_view host) {
  unsigned char random[8];
  if (RAND_bytes(random, sizeof random) != 1) std::fill(std::begin(random), std::end(random), 0);
  char buf[64];
  std::snprintf(buf, sizeof buf, "<%lld.", static_cast<long long>(std::time(nullptr)));
  std::string id = buf;
  for (unsigned char b : random) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    id += buf;
  }
  id += "@";
  id += host;
  id += ">";
  return id;
}

}  // namespace relay
