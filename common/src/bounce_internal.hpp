#pragma once
// Pieces the bounce_*.cpp files share; not an interface for programs (that is bounce.hpp).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "relay/bounce.hpp"

namespace relay::bounce::detail {

// One block of "Name: value" lines, as the parts of message/delivery-status and
// message/feedback-report hold them. Names as written, values unfolded.
struct FieldBlock {
  std::vector<std::pair<std::string, std::string>> fields;
  std::string get(std::string_view name) const;  // first, case-insensitive; "" when absent
  std::vector<std::string> get_all(std::string_view name) const;
  bool has(std::string_view name) const;
};
std::vector<FieldBlock> read_field_blocks(std::string_view text, size_t max_blocks);

// "rfc822; a@b" -> "a@b", "dns; mx.example" -> "mx.example" (the type and any <> removed).
std::string strip_type(std::string_view value);
// Whitespace runs (line ends included) to one space, trimmed.
std::string one_line(std::string_view text);
// The first mailbox in text: "<a@b>" or a bare word with '@'; "" when none.
std::string find_address(std::string_view text);
bool starts_with_nocase(std::string_view text, std::string_view prefix);
bool contains_nocase(std::string_view text, std::string_view needle);
std::vector<std::string_view> split_lines(std::string_view text);

// Fills smtp_code, status, reason and hard from what the parser found (address, action,
// diagnostic and possibly status), so every format is classified by the same rules.
void complete(Recipient& recipient);

// Format readers. Each returns true when it recognised its format and added recipients.
bool read_delivery_status(std::string_view text, Report& report, const Options& options);
bool read_feedback_report(std::string_view text, Report& report, const Options& options);

struct TextBounce {
  std::string_view body;        // the human-readable text, UTF-8
  std::string subject;
  std::string from;             // the bounce's From address
  std::vector<std::string> failed_recipients;  // X-Failed-Recipients
};
// The non-standard formats; sets report.format when it recognises one.
bool read_text_bounce(const TextBounce& bounce, Report& report, const Options& options);
// The MTA family a DSN came from, by the words around it: "postfix", "sendmail", "exim",
// "gmail", ... or "" when nothing tells.
std::string dsn_family(const TextBounce& bounce, std::string_view reporting_mta, bool postfix_fields,
                       bool exchange_header);
// Where the copy of the original message starts in a text bounce, or npos.
size_t original_copy_offset(std::string_view body);

}  // namespace relay::bounce::detail
