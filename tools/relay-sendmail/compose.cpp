#include "compose.hpp"

#include <unistd.h>

#include <cerrno>

#include "relay/address.hpp"
#include "relay/clock.hpp"
#include "relay/exit_codes.hpp"
#include "relay/headers.hpp"

namespace relay::sendmail {
namespace {

// Where the line holding only "." starts, searching from the line starting at from; npos if none.
size_t find_dot_line(std::string_view data, size_t from) {
  for (size_t start = from; start < data.size();) {
    size_t lf = data.find('\n', start);
    if (lf == std::string_view::npos) return std::string_view::npos;
    std::string_view line = data.substr(start, lf - start);
    if (line == "." || line == ".\r") return start;
    start = lf + 1;
  }
  return std::string_view::npos;
}

// The header part (field lines, each ending in CRLF) and the rest (the empty line and the body).
struct Split {
  std::string header;
  std::string rest;
};

Split split_message(const std::string& text) {
  HeaderBlock block(text);
  if (block.fields().empty()) {
    // Body text only (or an empty header section): everything after a new empty line.
    return {"", text.starts_with("\r\n") ? text : "\r\n" + text};
  }
  Split split{text.substr(0, block.header_end()), ""};
  if (!split.header.ends_with("\r\n")) split.header += "\r\n";
  // A line that is not a header field starts the body, as Postfix's cleanup does it.
  split.rest = block.malformed() ? "\r\n" + text.substr(block.body_offset()) : text.substr(block.header_end());
  return split;
}

std::vector<std::string> addresses_of(const HeaderField& field) {
  auto list = parse_address_list(field.value());
  if (!list)
    throw Failure(kExitData, "unable to read recipients from the " + std::string(field.name) +
                                 " header field: it is not an address list");
  return *list;
}

bool is_atom_text(std::string_view text) {
  for (unsigned char c : text) {
    bool atext = std::isalnum(c) || std::string_view("!#$%&'*+-/=?^_`{|}~ ").find(static_cast<char>(c)) != std::string_view::npos;
    if (!atext && c < 0x80) return false;
  }
  return true;
}

}  // namespace

std::string read_input(int fd, bool dot_ends, uint64_t max_size) {
  std::string data;
  size_t scanned = 0;  // start of the first line not yet checked for "."
  char chunk[65536];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno("unable to read the message from standard input", errno);
    if (n == 0) break;
    data.append(chunk, static_cast<size_t>(n));
    if (dot_ends) {
      size_t dot = find_dot_line(data, scanned);
      if (dot != std::string::npos) {
        data.resize(dot);
        break;
      }
      size_t last_lf = data.rfind('\n');
      if (last_lf != std::string::npos) scanned = last_lf + 1;
    }
    if (data.size() > max_size)
      throw Failure(kExitData, "unable to queue the message: it is larger than " + std::to_string(max_size) + " bytes");
  }
  return data;
}

std::string to_crlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r') {
      out += "\r\n";
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string display_name(std::string_view name) {
  if (is_atom_text(name)) return std::string(name);
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') quoted += '\\';
    if (c != '\r' && c != '\n') quoted += c;
  }
  return quoted + "\"";
}

Composed compose(std::string_view input, const ComposeOptions& options) {
  // An mbox "From " line is not part of the message.
  if (input.starts_with("From ")) {
    size_t lf = input.find('\n');
    input = lf == std::string_view::npos ? std::string_view() : input.substr(lf + 1);
  }
  if (input.find_first_not_of(" \t\r\n") == std::string_view::npos)
    throw Failure(kExitData, "unable to queue the message: the input is empty");

  Split split = split_message(to_crlf(input));
  HeaderBlock header(split.header);
  Composed composed;
  std::string kept;
  kept.reserve(split.header.size() + 200);
  for (const auto& field : header.fields()) {
    bool bcc = iequals(field.name, "Bcc");
    if (options.read_recipients && (bcc || iequals(field.name, "To") || iequals(field.name, "Cc"))) {
      auto addresses = addresses_of(field);
      composed.header_recipients.insert(composed.header_recipients.end(), addresses.begin(), addresses.end());
    }
    // Bcc recipients must not see each other, nor be seen by the others: always removed.
    if (!bcc) kept += field.raw;
  }
  if (!header.find("From")) {
    kept += options.full_name.empty()
                ? "From: " + options.from_address + "\r\n"
                : "From: " + display_name(options.full_name) + " <" + options.from_address + ">\r\n";
  }
  if (!header.find("Date")) kept += "Date: " + rfc5322_date(options.now) + "\r\n";
  if (!header.find("Message-ID")) kept += "Message-ID: " + make_message_id(options.hostname) + "\r\n";
  composed.message = kept + split.rest;
  return composed;
}

}  // namespace relay::sendmail
