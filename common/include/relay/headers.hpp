#pragma once
// Reading the header section of an RFC 5322 message without rewriting anything: each field
// keeps its raw bytes (folding and line ends as they were), and the body offset is exact.
// Line ends may be CRLF or bare LF.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relay {

struct HeaderField {
  std::string_view name;   // as written
  std::string_view raw;    // the whole field, from the name to its final line end inclusive
  size_t offset = 0;       // where raw starts in the message
  std::string value() const;  // unfolded: line ends removed, leading whitespace trimmed
};

class HeaderBlock {
 public:
  // Parses the header section of message (which must outlive the block). A message with no
  // header fields (an empty first line, or body text first) has none; malformed() says when a
  // line before the empty line is neither a field nor a continuation.
  explicit HeaderBlock(std::string_view message);

  const std::vector<HeaderField>& fields() const { return fields_; }
  const HeaderField* find(std::string_view name) const;           // first, case-insensitive
  std::vector<const HeaderField*> find_all(std::string_view name) const;
  size_t count(std::string_view name) const;
  size_t body_offset() const { return body_offset_; }            // first byte of the body
  size_t header_end() const { return header_end_; }              // where the empty line starts
  bool malformed() const { return malformed_; }
  bool crlf() const { return crlf_; }                             // first line ended with CRLF

 private:
  std::vector<HeaderField> fields_;
  size_t body_offset_ = 0;
  size_t header_end_ = 0;
  bool malformed_ = false;
  bool crlf_ = true;
};

bool iequals(std::string_view a, std::string_view b);
std::string to_lower(std::string_view text);

// A Message-ID for this host: "<time.random@host>".
std::string make_message_id(std::string_view host);
// This host's name as used in ids, Received and Message-ID (gethostname, sanitised).
std::string local_hostname();

}  // namespace relay
