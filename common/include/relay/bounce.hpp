#pragma once
// Reading the bounces that come back: RFC 3464 delivery status notifications, RFC 5965 (ARF)
// feedback reports, the non-standard texts of qmail, Exim, Sendmail, Exchange, Gmail, Yahoo and
// others, and auto-replies, turned into one record per recipient with a reason from a fixed
// vocabulary. bounce-parse(1) documents the vocabulary and the hard/soft rule.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relay/mime.hpp"

namespace relay::bounce {

enum class Reason {
  kUserUnknown,
  kMailboxFull,
  kHostUnknown,
  kMessageTooLarge,
  kSpamBlocked,
  kPolicy,
  kRateLimited,
  kExpired,
  kTlsSecurity,
  kMailerError,
  kAutoReply,
  kComplaint,
  kOther,
};
std::string_view to_string(Reason reason);  // "user-unknown", "mailbox-full", ...

struct Recipient {
  std::string address;             // the recipient the report is about
  std::string original_recipient;  // RFC 3464 Original-Recipient, when given
  std::string action;              // failed, delayed, auto-replied, complained
  std::string status;              // RFC 3463 "5.1.1"; "" when none can be found
  int smtp_code = 0;               // 550; 0 when none can be found
  std::string diagnostic;          // the remote server's or reporting MTA's words, one line
  std::string remote_mta;
  Reason reason = Reason::kOther;
  bool hard = false;               // stop sending to this address (see is_hard)
};

enum class Kind { kNotBounce, kBounce, kAutoReply, kComplaint };

struct Report {
  Kind kind = Kind::kNotBounce;
  std::string format;           // rfc3464, postfix, sendmail, exim, qmail, exchange, office365,
                                // gmail, yahoo, outlook, arf, text, auto-reply
  std::string reporting_mta;
  std::string date;             // the report's Date as ISO 8601 UTC; as written when unreadable
  std::string message_id;       // the original message's Message-ID
  std::string envelope_sender;  // the original message's envelope sender (MAIL FROM)
  std::vector<Recipient> recipients;  // failed, delayed, auto-replied or complained only
  std::string why_not;          // kNotBounce: what was missing, for the error message
};

struct Options {
  mime::Limits mime;
  size_t max_recipients = 1000;  // per report; the rest are dropped
};

// Reads one message. Never throws for bad input: what is not a report is kNotBounce.
Report parse(std::string_view message, const Options& options = {});

// The reason for a failure, from its enhanced status code (may be "") and the reply text, by
// the rules bounce-parse(1) lists.
Reason classify(std::string_view status, std::string_view text);

// Hard: a permanent failure that says the address itself is bad (user-unknown, host-unknown),
// or a complaint. Everything else can succeed later or with another message.
bool is_hard(Reason reason, std::string_view status, int smtp_code, std::string_view action);

// "550" at the start of text, or after a few words such as "host x [ip] said:"; 0 when none.
int find_smtp_code(std::string_view text);
// The first RFC 3463 code ("5.1.1", "#5.1.1") in text, or "".
std::string find_status(std::string_view text);

// An RFC 5322 date-time as epoch seconds, or nullopt.
std::optional<int64_t> parse_rfc5322_date(std::string_view text);

}  // namespace relay::bounce
