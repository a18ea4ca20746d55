#pragma once
// The envelope of a spooled message: text of name=value lines that cat and grep can read,
// documented in relay-spool(5). Values never hold CR, LF or NUL; serialize() refuses them.
// Unknown fields are kept and written back, so an older program never drops a newer field.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace relay {

inline constexpr int kEnvelopeVersion = 1;

enum class RecipientState { kPending, kSent, kDeferred, kFailed };
std::string_view to_string(RecipientState state);

using ExtraFields = std::vector<std::pair<std::string, std::string>>;

struct Recipient {
  std::string address;                  // as given in RCPT TO, without angle brackets
  RecipientState state = RecipientState::kPending;
  std::string notify;                   // RFC 3461 NOTIFY as given: "", "NEVER", "SUCCESS,FAILURE,DELAY"
  std::string orcpt;                    // RFC 3461 ORCPT as given: "rfc822;xtext"
  std::string status;                   // RFC 3463 code of the last outcome: "4.2.2"
  std::string response;                 // last reply of the remote server (sanitised, one line)
  std::string remote;                   // remote MTA of the last outcome: "mx.example.test[127.0.0.2]:25"
  int64_t updated = 0;                  // time of the last outcome
  ExtraFields extra;                    // unknown rcpt.* fields, kept as read

  bool done() const { return state == RecipientState::kSent || state == RecipientState::kFailed; }
  bool notify_on(std::string_view what) const;  // "SUCCESS", "FAILURE", "DELAY" per RFC 3461 defaults
};

struct Envelope {
  std::string id;
  std::string sender;                   // MAIL FROM without brackets; empty is the null sender <>
  int64_t arrival = 0;                  // seconds since the epoch
  uint64_t size = 0;                    // bytes of message after the envelope (0: not recorded);
                                        // set by the spool, which checks it when it reads
  std::string ret;                      // RFC 3461 RET: "", "FULL" or "HDRS"
  std::string envid;                    // RFC 3461 ENVID, xtext as given
  std::string body;                     // "7BIT", "8BITMIME" or "BINARYMIME" (empty: 7BIT)
  bool smtputf8 = false;
  std::string auth_user;                // authenticated submitter, empty if none
  std::string client_address;           // IP of the submitting client, empty for local injection
  std::string helo;
  std::string protocol;                 // "ESMTPSA", "SMTP", "local", ...
  std::string tls;                      // "TLSv1.3 TLS_AES_256_GCM_SHA384" or empty
  int attempts = 0;                     // delivery attempts so far
  int64_t last_attempt = 0;
  int64_t next_attempt = 0;             // also the file's mtime while in deferred/
  std::string defer_reason;             // why the last attempt deferred: "rate", "greylist", "connect", "dns", ...
  int64_t delay_warned = 0;             // time a delay DSN was sent, 0 if never
  std::string hold_reason;              // why it sits in hold/
  std::vector<Recipient> recipients;
  ExtraFields extra;                    // unknown fields, kept as read

  bool null_sender() const { return sender.empty(); }
  size_t pending_count() const;         // recipients not yet sent or failed
};

// The envelope as text, ending with the empty line that separates it from the message.
// Throws Failure(kExitData) when a value holds CR, LF or NUL.
std::string serialize(const Envelope& envelope);

// Parses the text up to (not including) the empty line. Throws Failure(kExitData) when it is
// not an envelope of a version this program knows.
Envelope parse_envelope(std::string_view text);

// Where the envelope of a spool file ends: the offset of the message, or npos if the
// separating empty line was not found in data.
size_t envelope_end(std::string_view data);

}  // namespace relay
