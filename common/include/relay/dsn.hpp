#pragma once
// Delivery status notifications (RFC 3464, with the NOTIFY/RET/ENVID/ORCPT parameters of
// RFC 3461): a multipart/report message for the sender of a spooled message, written from its
// envelope, and injected into incoming/ from the null sender so it is signed and delivered by
// the same pipeline as any other message. Shared by mx-deliver and spool-retry.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relay/envelope.hpp"

namespace relay {

class Spool;

enum class DsnAction { kFailed, kDelayed, kDelivered, kRelayed };
std::string_view to_string(DsnAction action);

// The RFC 3461 NOTIFY keyword an action answers to: FAILURE, DELAY or SUCCESS.
std::string_view notify_keyword(DsnAction action);

inline constexpr size_t kDefaultDsnReturnLimit = 50 * 1024;  // as Postfix's bounce_size_limit

struct DsnOptions {
  DsnAction action = DsnAction::kFailed;
  std::string reporting_mta;                 // this host's name: From MAILER-DAEMON@ it
  size_t return_limit = kDefaultDsnReturnLimit;  // larger messages come back as headers only
  int64_t now = 0;
  int64_t retry_until = 0;                   // kDelayed: Will-Retry-Until (0: left out)
  // Recipients (indexes into envelope.recipients) to report. Empty: every recipient whose
  // state fits the action (failed; deferred or pending; sent). NOTIFY filters either way.
  std::vector<size_t> only;
};

// The recipients the DSN reports: chosen by options.only or by state, then kept only when
// their NOTIFY asks for this action. Empty for the null sender: bounces are never bounced.
std::vector<size_t> dsn_recipients(const Envelope& envelope, const DsnOptions& options);

// The whole DSN message (CRLF line ends), or nullopt when no recipient is to be reported.
// message is the original message as spooled; it comes back in full (message/rfc822) unless
// RET=HDRS or it is larger than options.return_limit, then only its header section
// (text/rfc822-headers).
std::optional<std::string> make_dsn(const Envelope& envelope, std::string_view message,
                                    const DsnOptions& options);

// The envelope a DSN travels in: from <>, to the original sender, NOTIFY=NEVER.
Envelope dsn_envelope(const Envelope& original, std::string_view dsn_message, int64_t now);

// Makes the DSN and deposits it into incoming/. Returns its queue id, or nullopt when nothing
// was to be sent (null sender, NOTIFY). Throws Failure when the spool cannot take it.
std::optional<std::string> send_dsn(Spool& spool, const Envelope& envelope, std::string_view message,
                                    const DsnOptions& options);

// RFC 3461 xtext ("+2B" for '+'), as ENVID and ORCPT carry it. Invalid escapes stay as written.
std::string xtext_decode(std::string_view text);

}  // namespace relay
