#pragma once
// RFC 5321 addresses (with RFC 6531 SMTPUTF8) and RFC 5322 address lists in header fields.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relay {

inline constexpr size_t kMaxLocalPart = 64;   // RFC 5321 4.5.3.1.1
inline constexpr size_t kMaxDomain = 255;     // RFC 5321 4.5.3.1.2
inline constexpr size_t kMaxPath = 256;       // RFC 5321 4.5.3.1.3, with the angle brackets

struct Mailbox {
  std::string local_part;  // as written, quotes included for a quoted local part
  std::string domain;      // as written; an address literal keeps its brackets
  bool utf8 = false;       // holds non-ASCII (needs SMTPUTF8)
  bool literal = false;    // domain is an address literal: [127.0.0.1], [IPv6:...]

  std::string str() const { return local_part + "@" + domain; }
  std::string domain_lower() const;
};

struct AddressResult {
  std::optional<Mailbox> mailbox;  // empty for the null path <> (when ok)
  std::string error;               // empty when ok
  bool ok() const { return error.empty(); }
};

// A Mailbox (local@domain) as RFC 5321 4.1.2 defines it; utf8 allows RFC 6531 UTF-8.
AddressResult parse_mailbox(std::string_view text, bool allow_utf8);
// A reverse- or forward-path: "<local@domain>", "<@route:local@domain>", or "<>" when
// allow_null. The route is ignored as RFC 5321 4.1.1.3 says.
AddressResult parse_path(std::string_view text, bool allow_utf8, bool allow_null);

bool valid_domain(std::string_view domain, bool allow_utf8);
bool is_address_literal(std::string_view domain);

// The addr-specs of an RFC 5322 address-list (To, Cc, Bcc, From, Reply-To): display names,
// comments and groups are dropped. Returns nullopt when the list is malformed.
std::optional<std::vector<std::string>> parse_address_list(std::string_view value);

// The domain part of an addr-spec, lower-cased; empty if there is none.
std::string domain_of(std::string_view address);

}  // namespace relay
