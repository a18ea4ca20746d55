#pragma once
// The relay's sending policy (relay-policy.conf(5)) as one in-process API that every entry
// point uses: smtp-listen at MAIL, at each RCPT and at the end of DATA; relay-policy check
// and its filter modes; the Postfix policy server.
//
//   relay::policy::Policy policy({.policy_file = "/etc/relay/policy.conf"});
//   relay::policy::Request mail{.stage = relay::policy::Stage::kMail, .user = "alice",
//                               .client_ip = "192.0.2.7", .sender = "alice@example.com"};
//   relay::policy::Verdict v = policy.check(mail);
//   if (!v.accepted()) reply(v.reply());           // "550 5.7.1 sender domain ..."
//
// Rate limits are counted (consumed) once per message, at Stage::kData, atomically for every
// window that applies; MAIL and RCPT only look whether a window is already full, so a client
// over its limit is told 451 4.7.1 early. A Policy is safe to share between threads. The
// rate store is opened on first use and again in a forked child (LMDB handles must not cross
// fork()), so a Policy may be built before forking.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relay/clock.hpp"

namespace relay::policy {

enum class Stage { kMail, kRcpt, kData };

enum class Action {
  kAccept,  // 2xx: go on
  kReject,  // 5xx: permanent refusal
  kDefer,   // 4xx: try again later (rate limit, store unavailable, too many recipients)
  kHold,    // accept the message into hold/ for a person to look at
};

struct Request {
  Stage stage = Stage::kMail;
  std::string user;                     // authenticated user; empty when not authenticated
  std::string client_ip;                // "192.0.2.7" or "2001:db8::7"; empty for local injection
  std::string sender;                   // MAIL FROM without brackets; empty for the null sender <>
  std::string recipient;                // kRcpt: the recipient asked about, without brackets
  std::vector<std::string> recipients;  // kData: every recipient of the message
  std::string from_domain;              // kData: domain of the (first) header From address; empty when none
  bool headers_seen = true;             // kData: false when the caller never sees the header (Postfix
                                        // policy service): from-domains and align are not checked
  uint64_t size = 0;                    // kMail: the SIZE= parameter (0 when absent); kData: bytes
  size_t recipient_count = 0;           // kRcpt: accepted so far plus this one; kData: 0 = recipients.size()
};

struct Verdict {
  Action action = Action::kAccept;
  int code = 250;                       // SMTP reply code
  std::string status = "2.0.0";         // RFC 3463 enhanced status code
  std::string text = "ok";              // one line, no CR/LF
  std::string rule;                     // the rule that decided, for logs: "sender-domains", "user-messages 100/minute"
  int64_t retry_after = 0;              // kDefer by a rate limit: seconds until it would pass

  bool accepted() const { return action == Action::kAccept || action == Action::kHold; }
  std::string reply() const;            // "451 4.7.1 text"
  int exit_code() const;                // 0 accept, 75 defer, 100 reject or hold (relay-policy(8))
};

std::string_view to_string(Action action);

struct Options {
  std::string policy_file{};             // relay-policy.conf(5)
  std::string store_dir{};               // overrides the file's "store"; empty: the file's
  std::optional<bool> fail_open{};       // overrides the file's "on-store-error"
  Clock clock{};                         // --now for tests
};

class Policy {
 public:
  // Loads the policy file; throws relay::Failure(kExitConfig) naming the file and line.
  explicit Policy(Options options);
  ~Policy();
  Policy(const Policy&) = delete;
  Policy& operator=(const Policy&) = delete;

  // Reads the policy file again. On error throws Failure(kExitConfig) and keeps the rules it had.
  void reload();

  // One stage of one SMTP transaction. Never throws for a store error: that is a 451 4.3.0
  // defer (or an accept with a warning logged under on-store-error = accept).
  Verdict check(const Request& request);

  // A whole message at once (relay-policy check, filters): MAIL, each recipient, then DATA.
  // The first verdict that is not an accept decides; per_recipient (when given) gets the RCPT
  // verdict of each recipient in order.
  Verdict check_message(const Request& request, std::vector<Verdict>* per_recipient = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace relay::policy
