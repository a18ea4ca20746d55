// Reasons for failures, from status codes first and the reply text second. The phrase lists
// come from the texts MTAs and large mailbox providers are known to send.
#include <array>
#include <cctype>

#include "relay/bounce.hpp"

namespace relay::bounce {
namespace {

using Phrases = std::initializer_list<std::string_view>;

bool contains_any(std::string_view lower, Phrases phrases) {
  for (std::string_view p : phrases)
    if (lower.find(p) != std::string_view::npos) return true;
  return false;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Text rules, tried in order; the first that matches wins.
struct TextRule {
  Reason reason;
  Phrases phrases;
};

const std::array<TextRule, 11>& text_rules() {
  static const std::array<TextRule, 11> rules{{
      // A refusal of the sender (its domain not found, its address unverifiable) says nothing
      // about the recipient, whatever words about unknown domains or users follow.
      {Reason::kPolicy,
       {"sender address rejected", "sender verify failed", "sender verification failed", "verification failed for <",
        "sender domain not found", "sender domain must exist"}},
      {Reason::kExpired,
       {"delivery time expired", "message expired", "too long in queue", "in the queue too long",
        "retry timeout exceeded", "retry time not reached for any host after a long failure period",
        "could not be delivered within", "message has been in the queue", "queue lifetime", "expired after",
        // A host that never answers is a transient cause (X.4.1) that can only end in expiry.
        "connection timed out", "connection refused", "no answer from host", "envelope expired"}},
      {Reason::kTlsSecurity,
       {"starttls", "tls is required", "tls required", "tls handshake", "tls negotiation", "tls connection",
        "certificate verif", "certificate has expired", "x509", "mta-sts", "tlsa", "dane ", "encryption required",
        "must use tls", "ssl handshake", "cannot establish secure", "secure connection"}},
      {Reason::kMailboxFull,
       {"mailbox full", "mailbox is full", "mailbox size limit", "over quota", "quota exceeded", "exceeded quota",
        "exceeds quota", "overquota", "quota exceed", "full mailbox", "mailbox has exceeded", "out of storage",
        "storage limit", "exceeded storage", "insufficient storage", "mail box full", "account is full",
        "inbox is full", "mailfolder is full"}},
      {Reason::kMessageTooLarge,
       {"message too large", "message is too large", "message size exceeds", "message exceeds", "too big",
        "exceeds the maximum", "size limit", "message length exceeds", "message size limit", "exceeded the size",
        "mail size exceeds", "size exceeds"}},
      {Reason::kUserUnknown,
       {"user unknown", "unknown user", "no such user", "user not found", "recipient not found", "recipientnotfound",
        "recipnotfound", "does not exist", "doesn't exist", "no mailbox", "mailbox unavailable", "mailbox not found",
        "mailbox does not", "invalid recipient", "invalid mailbox", "unknown recipient", "no such recipient",
        "address not found", "couldn't be found", "could not be found", "account does not", "account is disabled",
        "account has been disabled", "is disabled", "no longer", "not a valid", "unknown local part",
        "no mailbox here by that name", "address rejected: user", "invalid address",
        "undeliverable address", "not our customer", "not have an account", "doesn't have a", "bad destination mailbox",
        "user doesn't", "unknown address", "address unknown", "no such person", "recipient unknown",
        "recipient address rejected: undeliverable"}},
      {Reason::kHostUnknown,
       {"host unknown", "host not found", "domain not found", "no such domain", "name or service not known",
        "couldn't find any host", "host or domain name not found", "nxdomain", "domain does not exist",
        "null mx", "unrouteable address", "unrouteable mail domain", "no mx", "unknown host", "domain name not found", "dns lookup",
        "domain has no", "all relevant mx records point to non-existent hosts", "no valid mx", "bad destination system"}},
      {Reason::kRateLimited,
       {"rate limit", "ratelimit", "too many messages", "too many mails", "too many emails", "too many connections",
        "too many concurrent", "too many sessions", "too many recipients", "receiving mail at a rate",
        "limits for how many messages", "throttl", "exceeded the rate", "unusual rate", "rate of",
        "rate exceeded", "sending rate", "connection limit", "too fast"}},
      {Reason::kSpamBlocked,
       {"spam", "blocked", "blacklist", "blocklist", "block list", "black list", "rbl", "spamhaus", "spamcop",
        "barracuda", "reputation", "junk", "bulk mail", "unsolicited", "content rejected", "message rejected",
        "listed at", "listed in", "listed on", "is listed", "dnsbl", "sorbs", "virus", "malware", "phish",
        "suspicious", "poor reputation", "banned sending ip", "infected", "dynamically-assigned", "dynamic ip",
        "traffic not accepted from this ip",
        // Yahoo's TSS04/TSS05 deferrals ("unexpected volume or user complaints") are about reputation.
        "user complaints"}},
      {Reason::kPolicy,
       {"policy", "not authorized", "not authorised", "relay access denied", "relaying denied", "relay not permitted",
        "not permitted", "dmarc", "spf", "dkim", "authentication", "unauthenticated", "access denied", "greylist",
        "graylist", "prohibited", "refused", "administrative prohibition", "denied", "not allowed", "restricted",
        "cannot find your hostname", "reverse dns", "ptr record"}},
      {Reason::kMailerError,
       {"mailer error", "command died", "command output", "mail loop", "loops back to myself", "routing loop",
        "hop count exceeded", "too many hops", "local delivery failed", "mail system configuration",
        "mailer-daemon loop", "pipe to", "internal error", "unknown mailer"}},
  }};
  return rules;
}

// Reasons a status code alone settles.
std::optional<Reason> reason_of_status(std::string_view status, std::string_view lower) {
  if (status.size() < 5) return std::nullopt;
  std::string_view detail = status.substr(2);  // "1.1" of "5.1.1"
  if (detail == "1.1" || detail == "1.6" || detail == "1.3") return Reason::kUserUnknown;
  if (detail == "1.7" || detail == "1.8") return Reason::kPolicy;  // the sender's address, not the recipient's
  // Exchange Online's directory-based edge blocking: the recipient is not in the directory.
  if (detail == "4.1" && contains_any(lower, {"recipient address rejected: access denied"})) return Reason::kUserUnknown;
  if (detail == "1.10") return contains_any(lower, {"null mx"}) ? Reason::kHostUnknown : Reason::kUserUnknown;
  if (detail == "1.2") return Reason::kHostUnknown;
  if (detail == "2.2") return Reason::kMailboxFull;
  if (detail == "3.4" || detail == "2.3") return Reason::kMessageTooLarge;
  if (detail == "4.7") return Reason::kExpired;
  if (detail == "4.6") return Reason::kMailerError;
  if (detail == "7.10" || detail == "7.11" || detail == "7.5") return Reason::kTlsSecurity;
  if (detail == "7.23" || detail == "7.24" || detail == "7.25" || detail == "7.26" || detail == "7.27")
    return Reason::kPolicy;
  return std::nullopt;
}

}  // namespace

std::string_view to_string(Reason reason) {
  switch (reason) {
    case Reason::kUserUnknown: return "user-unknown";
    case Reason::kMailboxFull: return "mailbox-full";
    case Reason::kHostUnknown: return "host-unknown";
    case Reason::kMessageTooLarge: return "message-too-large";
    case Reason::kSpamBlocked: return "spam-blocked";
    case Reason::kPolicy: return "policy";
    case Reason::kRateLimited: return "rate-limited";
    case Reason::kExpired: return "expired";
    case Reason::kTlsSecurity: return "tls-security";
    case Reason::kMailerError: return "mailer-error";
    case Reason::kAutoReply: return "auto-reply";
    case Reason::kComplaint: return "complaint";
    case Reason::kOther: return "other";
  }
  return "other";
}

Reason classify(std::string_view status, std::string_view text) {
  std::string lower = to_lower(text);
  if (auto by_status = reason_of_status(status, lower)) return *by_status;
  for (const TextRule& rule : text_rules())
    if (contains_any(lower, rule.phrases)) return rule.reason;
  // Nothing specific in the words: the class of the subject code still says something.
  if (status.size() >= 3 && status.substr(1, 2) == ".7") return Reason::kPolicy;
  return Reason::kOther;
}

bool is_hard(Reason reason, std::string_view status, int smtp_code, std::string_view action) {
  if (reason == Reason::kComplaint) return true;
  if (reason != Reason::kUserUnknown && reason != Reason::kHostUnknown) return false;
  if (action == "delayed") return false;
  if (!status.empty()) return status[0] == '5';
  if (smtp_code != 0) return smtp_code / 100 == 5;
  return action == "failed";
}

int find_smtp_code(std::string_view text) {
  // A reply code is three digits, 2xx-5xx, standing alone and followed by space, '-' or the end,
  // within the first words of the text (after "said:", "host x [ip]:" and the like).
  for (size_t i = 0; i + 3 <= text.size(); ++i) {
    char c = text[i];
    if (c < '2' || c > '5' || !is_digit(text[i + 1]) || !is_digit(text[i + 2])) continue;
    if (i > 0 && (is_digit(text[i - 1]) || text[i - 1] == '.' || text[i - 1] == '-' ||
                  std::isalpha(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '_' || text[i - 1] == '/'))
      continue;
    bool colon_at_start = i == 0 && i + 3 < text.size() && text[i + 3] == ':';  // Yahoo's "554: delivery error"
    if (i + 3 < text.size() && text[i + 3] != ' ' && text[i + 3] != '-' && text[i + 3] != '\t' && text[i + 3] != '\r' &&
        text[i + 3] != '\n' && !colon_at_start)
      continue;
    if (i > 0 && text[i - 1] == ':') continue;  // a port, as in "[192.0.2.1]:550"
    return (c - '0') * 100 + (text[i + 1] - '0') * 10 + (text[i + 2] - '0');
  }
  return 0;
}

std::string find_status(std::string_view text) {
  for (size_t i = 0; i + 5 <= text.size(); ++i) {
    char c = text[i];
    if ((c != '2' && c != '4' && c != '5') || text[i + 1] != '.') continue;
    if (i > 0 && (is_digit(text[i - 1]) || text[i - 1] == '.' || std::isalpha(static_cast<unsigned char>(text[i - 1]))))
      continue;
    size_t j = i + 2;
    size_t subject_start = j;
    while (j < text.size() && is_digit(text[j]) && j - subject_start < 3) ++j;
    if (j == subject_start || j >= text.size() || text[j] != '.') continue;
    size_t detail_start = ++j;
    while (j < text.size() && is_digit(text[j]) && j - detail_start < 3) ++j;
    if (j == detail_start) continue;
    if (j < text.size() && (is_digit(text[j]) || (text[j] == '.' && j + 1 < text.size() && is_digit(text[j + 1]))))
      continue;  // an IP address or a version number
    return std::string(text.substr(i, j - i));
  }
  return "";
}

}  // namespace relay::bounce
