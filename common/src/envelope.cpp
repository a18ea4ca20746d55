#include "relay/envelope.hpp"

#include <charconv>

#include "relay/exit_codes.hpp"

namespace relay {
namespace {

constexpr std::string_view kRecipientPrefix = "rcpt.";

bool clean_value(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

void put(std::string& out, std::string_view name, std::string_view value) {
  if (!clean_value(value))
    throw Failure(kExitData, "unable to write envelope field " + std::string(name) +
                                 ": the value holds CR, LF or NUL");
  out += name;
  out += '=';
  out += value;
  out += '\n';
}

void put_nonempty(std::string& out, std::string_view name, std::string_view value) {
  if (!value.empty()) put(out, name, value);
}

void put_number(std::string& out, std::string_view name, int64_t value) {
  if (value != 0) put(out, name, std::to_string(value));
}

int64_t to_number(std::string_view name, std::string_view value) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || end != value.data() + value.size())
    throw Failure(kExitData, "unable to read envelope field " + std::string(name) + ": not a number");
  return n;
}

RecipientState to_state(std::string_view value) {
  if (value == "pending") return RecipientState::kPending;
  if (value == "sent") return RecipientState::kSent;
  if (value == "deferred") return RecipientState::kDeferred;
  if (value == "failed") return RecipientState::kFailed;
  throw Failure(kExitData, "unable to read envelope field rcpt.state: unknown state '" + std::string(value) + "'");
}

void read_recipient_field(Recipient& r, std::string_view name, std::string_view value) {
  if (name == "state") r.state = to_state(value);
  else if (name == "notify") r.notify = value;
  else if (name == "orcpt") r.orcpt = value;
  else if (name == "status") r.status = value;
  else if (name == "response") r.response = value;
  else if (name == "remote") r.remote = value;
  else if (name == "updated") r.updated = to_number("rcpt.updated", value);
  else r.extra.emplace_back(name, value);
}

void read_field(Envelope& e, std::string_view name, std::string_view value) {
  if (name == "id") e.id = value;
  else if (name == "sender") e.sender = value;
  else if (name == "arrival") e.arrival = to_number(name, value);
  else if (name == "size") e.size = static_cast<uint64_t>(to_number(name, value));
  else if (name == "ret") e.ret = value;
  else if (name == "envid") e.envid = value;
  else if (name == "body") e.body = value;
  else if (name == "smtputf8") e.smtputf8 = value == "1";
  else if (name == "auth") e.auth_user = value;
  else if (name == "client") e.client_address = value;
  else if (name == "helo") e.helo = value;
  else if (name == "protocol") e.protocol = value;
  else if (name == "tls") e.tls = value;
  else if (name == "attempts") e.attempts = static_cast<int>(to_number(name, value));
  else if (name == "last-attempt") e.last_attempt = to_number(name, value);
  else if (name == "next-attempt") e.next_attempt = to_number(name, value);
  else if (name == "defer-reason") e.defer_reason = value;
  else if (name == "delay-warned") e.delay_warned = to_number(name, value);
  else if (name == "hold-reason") e.hold_reason = value;
  else e.extra.emplace_back(name, value);
}

// How many recipients the envelope text lists: their vector is then allocated once.
size_t count_recipients(std::string_view text) {
  constexpr std::string_view kRecipientLine = "\nrcpt=";
  size_t count = 0;
  for (size_t pos = text.find(kRecipientLine); pos != std::string_view::npos;
       pos = text.find(kRecipientLine, pos + kRecipientLine.size()))
    ++count;
  return count;
}

}  // namespace

std::string_view to_string(RecipientState state) {
  switch (state) {
    case RecipientState::kPending: return "pending";
    case RecipientState::kSent: return "sent";
    case RecipientState::kDeferred: return "deferred";
    case RecipientState::kFailed: return "failed";
  }
  return "pending";
}

bool Recipient::notify_on(std::string_view what) const {
  // RFC 3461 5.1: without NOTIFY, failures and delays are reported, successes not.
  if (notify.empty()) return what != "SUCCESS";
  if (notify == "NEVER") return false;
  size_t pos = 0;
  while (pos <= notify.size()) {
    size_t comma = notify.find(',', pos);
    std::string_view item = std::string_view(notify).substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (item.size() == what.size()) {
      bool same = true;
      for (size_t i = 0; i < item.size() && same; ++i) same = (item[i] & ~0x20) == (what[i] & ~0x20);
      if (same) return true;
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return false;
}

size_t Envelope::pending_count() const {
  size_t n = 0;
  for (const auto& r : recipients) n += r.done() ? 0 : 1;
  return n;
}

std::string serialize(const Envelope& e) {
  std::string out;
  out.reserve(256 + e.recipients.size() * 64);
  put(out, "version", std::to_string(kEnvelopeVersion));
  put(out, "id", e.id);
  put(out, "sender", e.sender);
  put_number(out, "arrival", e.arrival);
  if (e.size != 0) put(out, "size", std::to_string(e.size));
  put_nonempty(out, "ret", e.ret);
  put_nonempty(out, "envid", e.envid);
  put_nonempty(out, "body", e.body);
  if (e.smtputf8) put(out, "smtputf8", "1");
  put_nonempty(out, "auth", e.auth_user);
  put_nonempty(out, "client", e.client_address);
  put_nonempty(out, "helo", e.helo);
  put_nonempty(out, "protocol", e.protocol);
  put_nonempty(out, "tls", e.tls);
  put_number(out, "attempts", e.attempts);
  put_number(out, "last-attempt", e.last_attempt);
  put_number(out, "next-attempt", e.next_attempt);
  put_nonempty(out, "defer-reason", e.defer_reason);
  put_number(out, "delay-warned", e.delay_warned);
  put_nonempty(out, "hold-reason", e.hold_reason);
  for (const auto& [name, value] : e.extra) put(out, name, value);
  for (const auto& r : e.recipients) {
    put(out, "rcpt", r.address);
    put(out, "rcpt.state", to_string(r.state));
    put_nonempty(out, "rcpt.notify", r.notify);
    put_nonempty(out, "rcpt.orcpt", r.orcpt);
    put_nonempty(out, "rcpt.status", r.status);
    put_nonempty(out, "rcpt.response", r.response);
    put_nonempty(out, "rcpt.remote", r.remote);
    put_number(out, "rcpt.updated", r.updated);
    for (const auto& [name, value] : r.extra) put(out, std::string(kRecipientPrefix) + name, value);
  }
  out += '\n';
  return out;
}

Envelope parse_envelope(std::string_view text) {
  Envelope e;
  e.recipients.reserve(count_recipients(text));
  bool versioned = false;
  Recipient* current = nullptr;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty()) break;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0)
      throw Failure(kExitData, "unable to read envelope: a line is not name=value");
    std::string_view name = line.substr(0, eq), value = line.substr(eq + 1);
    if (!versioned) {
      if (name != "version") throw Failure(kExitData, "unable to read envelope: it does not start with version=");
      if (to_number(name, value) != kEnvelopeVersion)
        throw Failure(kExitData, "unable to read envelope: unknown version " + std::string(value));
      versioned = true;
    } else if (name == "rcpt") {
      current = &e.recipients.emplace_back();
      current->address = value;
    } else if (name.starts_with(kRecipientPrefix)) {
      if (current == nullptr) throw Failure(kExitData, "unable to read envelope: " + std::string(name) + " before any rcpt=");
      read_recipient_field(*current, name.substr(kRecipientPrefix.size()), value);
    } else {
      read_field(e, name, value);
    }
  }
  if (!versioned) throw Failure(kExitData, "unable to read envelope: it is empty");
  return e;
}

size_t envelope_end(std::string_view data) {
  if (data.starts_with("\n")) return std::string_view::npos;
  size_t pos = data.find("\n\n");
  return pos == std::string_view::npos ? pos : pos + 2;
}

}  // namespace relay
