#pragma once
// Turns the checked lines of a message into the bytes that are spooled: the Received trace
// field first, the header section as received, Date and Message-ID appended to the header
// section when they are missing and the submitter authenticated (RFC 6409 8.2, 8.3), then the
// body. Counts the size as received and stops passing bytes on once it is over the limit.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace smtp_listen {

struct MessageOptions {
  std::string trace;          // the Received field, CRLF-terminated (folded lines included)
  bool add_missing = false;   // add Date and Message-ID when absent
  std::string date;           // RFC 5322 date for a missing Date
  std::string message_id;     // "<...>" for a missing Message-ID
  uint64_t max_size = 0;
};

class MessageBuilder {
 public:
  using Output = std::function<void(std::string_view bytes)>;
  MessageBuilder(MessageOptions options, Output output);

  void line(std::string_view content);  // a line without its end
  void finish();                        // the message ended

  bool too_big() const { return too_big_; }
  // The first From field's value, unfolded (for relay-policy's header From check).
  const std::string& from_value() const { return from_value_; }
  uint64_t size() const { return size_; }  // as received, with CRLF line ends

 private:
  void end_header();

  MessageOptions options_;
  Output output_;
  bool in_header_ = true;
  bool seen_field_ = false;
  bool has_date_ = false;
  bool has_message_id_ = false;
  bool too_big_ = false;
  bool in_from_ = false;
  std::string from_value_;
  uint64_t size_ = 0;
  std::string pending_;  // output gathered across lines, handed on in larger pieces
};

}  // namespace smtp_listen
