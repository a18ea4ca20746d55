#include "relay/dsn.hpp"

#include <openssl/rand.h>

#include <cctype>
#include <cstdio>

#include "relay/clock.hpp"
#include "relay/headers.hpp"
#include "relay/spool.hpp"

namespace relay {
namespace {

constexpr std::string_view kCrlf = "\r\n";
// A report field longer than this is cut, so no line of the DSN passes RFC 5322's 998.
constexpr size_t kMaxFieldText = 900;

bool is_ascii(std::string_view text) {
  for (unsigned char c : text)
    if (c >= 0x80) return false;
  return true;
}

// Control characters never reach a header line; non-ASCII only where the part allows it.
std::string field_text(std::string_view text, bool allow_utf8) {
  std::string out;
  for (unsigned char c : text.substr(0, kMaxFieldText)) {
    if (c < 0x20 || c == 0x7f || (c >= 0x80 && !allow_utf8))
      out += '?';
    else
      out += static_cast<char>(c);
  }
  return out;
}

// "Name: value" folded at spaces so lines stay near 78 characters where the value allows.
std::string header_line(std::string_view name, std::string_view value) {
  std::string out(name);
  out += ":";
  size_t column = out.size();
  size_t pos = 0;
  while (pos < value.size()) {
    size_t space = value.find(' ', pos + 1);
    std::string_view word = value.substr(pos, space == std::string_view::npos ? std::string_view::npos : space - pos);
    if (pos == 0) {
      out += ' ';
      ++column;
    } else if (column + word.size() > 76) {
      out += kCrlf;
      column = 0;  // the word's own leading space is the folding whitespace
    }
    out += word;
    column += word.size();
    pos += word.size();
  }
  out += kCrlf;
  return out;
}

// The original message with every line ending in CRLF, as the DSN's other parts do.
std::string with_crlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out += '\r';
    out += text[i];
  }
  if (!out.empty() && out.back() != '\n') out += kCrlf;
  return out;
}

std::string random_hex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
    throw std::runtime_error("RAND_bytes failed");
  std::string out;
  char buf[3];
  for (unsigned char c : raw) {
    std::snprintf(buf, sizeof buf, "%02x", c);
    out += buf;
  }
  return out;
}

// "mx.example.test[127.0.0.2]:25" -> "mx.example.test"; "[127.0.0.2]:25" -> "127.0.0.2".
std::string remote_mta_name(std::string_view remote) {
  size_t bracket = remote.find('[');
  if (bracket == std::string_view::npos) {
    size_t colon = remote.rfind(':');
    return std::string(colon == std::string_view::npos ? remote : remote.substr(0, colon));
  }
  if (bracket > 0) return std::string(remote.substr(0, bracket));
  size_t close = remote.find(']', bracket);
  return std::string(remote.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
}

// "rfc822;a+2Bb@x" -> "rfc822; a+b@x" (RFC 3464 2.3.1 from RFC 3461 4.2).
std::string original_recipient(std::string_view orcpt) {
  size_t semi = orcpt.find(';');
  if (semi == std::string_view::npos) return "rfc822; " + xtext_decode(orcpt);
  return std::string(orcpt.substr(0, semi)) + "; " + xtext_decode(orcpt.substr(semi + 1));
}

// "smtp; 550 5.1.1 ..." for a server's reply; this relay's own text (a connection or DNS
// failure) is not an SMTP reply and says so with an extension type, as RFC 3464 2.3.6 allows.
std::string diagnostic_code(std::string_view response) {
  bool smtp_reply = response.size() >= 3 && response[0] >= '2' && response[0] <= '5' &&
                    std::isdigit(static_cast<unsigned char>(response[1])) &&
                    std::isdigit(static_cast<unsigned char>(response[2])) && (response.size() == 3 || response[3] == ' ' || response[3] == '-');
  return (smtp_reply ? "smtp; " : "X-Relay; ") + std::string(response);
}

std::string_view default_status(DsnAction action) {
  switch (action) {
    case DsnAction::kFailed: return "5.0.0";
    case DsnAction::kDelayed: return "4.0.0";
    default: return "2.0.0";
  }
}

std::string_view subject_of(DsnAction action) {
  switch (action) {
    case DsnAction::kFailed: return "Undeliverable mail returned to sender";
    case DsnAction::kDelayed: return "Mail not yet delivered (still trying)";
    case DsnAction::kDelivered: return "Mail delivered";
    case DsnAction::kRelayed: return "Mail relayed to a system without delivery reports";
  }
  return "";
}

std::string explanation(DsnAction action, const DsnOptions& options) {
  switch (action) {
    case DsnAction::kFailed:
      return "Your message could not be delivered to the recipients listed below.\r\n"
             "The reason given for each of them follows its address. The message, or\r\n"
             "its header section, is attached.\r\n";
    case DsnAction::kDelayed: {
      std::string text =
          "Your message has not been delivered yet to the recipients listed below.\r\n"
          "This is only a warning: you do not need to send the message again.\r\n";
      if (options.retry_until > 0)
        text += "Delivery will be tried again until " + rfc5322_date(options.retry_until) + ".\r\n";
      return text;
    }
    case DsnAction::kDelivered:
      return "Your message was delivered to the recipients listed below.\r\n";
    case DsnAction::kRelayed:
      return "Your message was passed on to the recipients' mail systems listed below.\r\n"
             "They do not send delivery reports, so no further notice will follow.\r\n";
  }
  return "";
}

struct ReturnedPart {
  std::string content_type;
  std::string description;
  std::string body;
};

ReturnedPart returned_part(const Envelope& envelope, std::string_view message, const DsnOptions& options) {
  HeaderBlock headers(message);
  // BINARYMIME content cannot travel inside an 8BITMIME report: headers only, as for RET=HDRS.
  bool full = envelope.ret != "HDRS" && message.size() <= options.return_limit && envelope.body != "BINARYMIME";
  std::string_view returned = full ? message : message.substr(0, headers.header_end());
  bool global = envelope.smtputf8 && !is_ascii(message.substr(0, headers.header_end()));
  if (full)
    return {global ? "message/global" : "message/rfc822", "Undelivered message", with_crlf(returned)};
  return {global ? "message/global-headers" : "text/rfc822-headers", "Header section of the undelivered message",
          with_crlf(returned)};
}

std::string boundary_for(const std::vector<std::string_view>& parts) {
  for (;;) {
    std::string boundary = "=_relay_" + random_hex(12);
    bool clash = false;
    for (auto part : parts) clash = clash || part.find(boundary) != std::string_view::npos;
    if (!clash) return boundary;
  }
}

}  // namespace

std::string_view to_string(DsnAction action) {
  switch (action) {
    case DsnAction::kFailed: return "failed";
    case DsnAction::kDelayed: return "delayed";
    case DsnAction::kDelivered: return "delivered";
    case DsnAction::kRelayed: return "relayed";
  }
  return "";
}

std::string_view notify_keyword(DsnAction action) {
  switch (action) {
    case DsnAction::kFailed: return "FAILURE";
    case DsnAction::kDelayed: return "DELAY";
    default: return "SUCCESS";
  }
}

std::string xtext_decode(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::vector<size_t> dsn_recipients(const Envelope& envelope, const DsnOptions& options) {
  std::vector<size_t> chosen;
  if (envelope.null_sender()) return chosen;
  auto fits_state = [&](const Recipient& r) {
    switch (options.action) {
      case DsnAction::kFailed: return r.state == RecipientState::kFailed;
      case DsnAction::kDelayed: return r.state == RecipientState::kDeferred || r.state == RecipientState::kPending;
      default: return r.state == RecipientState::kSent;
    }
  };
  auto consider = [&](size_t i) {
    if (i < envelope.recipients.size() && envelope.recipients[i].notify_on(notify_keyword(options.action)))
      chosen.push_back(i);
  };
  if (!options.only.empty()) {
    for (size_t i : options.only) consider(i);
  } else {
    for (size_t i = 0; i < envelope.recipients.size(); ++i)
      if (fits_state(envelope.recipients[i])) consider(i);
  }
  return chosen;
}

std::optional<std::string> make_dsn(const Envelope& envelope, std::string_view message, const DsnOptions& options) {
  std::vector<size_t> reported = dsn_recipients(envelope, options);
  if (reported.empty()) return std::nullopt;

  // Non-ASCII addresses need the RFC 6533 report type; otherwise stay plain ASCII.
  bool utf8_report = false;
  for (size_t i : reported) {
    const Recipient& r = envelope.recipients[i];
    utf8_report = utf8_report || !is_ascii(r.address) || !is_ascii(xtext_decode(r.orcpt));
  }
  utf8_report = utf8_report && envelope.smtputf8;

  std::string human = "This report comes from the mail relay " + options.reporting_mta + ".\r\n\r\n";
  human += explanation(options.action, options);
  human += "\r\n";

  std::string status = "Reporting-MTA: dns; " + options.reporting_mta + "\r\n";
  if (!envelope.envid.empty())
    status += header_line("Original-Envelope-Id", field_text(xtext_decode(envelope.envid), false));
  if (envelope.arrival > 0) status += "Arrival-Date: " + rfc5322_date(envelope.arrival) + "\r\n";
  for (size_t i : reported) {
    const Recipient& r = envelope.recipients[i];
    std::string address = field_text(r.address, utf8_report);
    std::string code = r.status.empty() ? std::string(default_status(options.action)) : r.status;
    std::string response = field_text(r.response, false);
    human += "<" + address + ">: " + code;
    if (!response.empty()) human += ", " + (r.remote.empty() ? "" : remote_mta_name(r.remote) + " said: ") + response;
    human += "\r\n";

    status += "\r\n";
    status += header_line("Final-Recipient", (is_ascii(r.address) ? "rfc822; " : "utf-8; ") + address);
    if (!r.orcpt.empty()) status += header_line("Original-Recipient", field_text(original_recipient(r.orcpt), utf8_report));
    status += "Action: " + std::string(to_string(options.action)) + "\r\n";
    status += "Status: " + field_text(code, false) + "\r\n";
    if (!r.remote.empty()) status += header_line("Remote-MTA", "dns; " + field_text(remote_mta_name(r.remote), false));
    if (!response.empty()) status += header_line("Diagnostic-Code", diagnostic_code(response));
    int64_t last = r.updated > 0 ? r.updated : envelope.last_attempt;
    if (last > 0) status += "Last-Attempt-Date: " + rfc5322_date(last) + "\r\n";
    if (options.action == DsnAction::kDelayed && options.retry_until > 0)
      status += "Will-Retry-Until: " + rfc5322_date(options.retry_until) + "\r\n";
  }

  ReturnedPart returned = returned_part(envelope, message, options);
  std::string boundary = boundary_for({human, status, returned.body});
  bool eight_bit = !is_ascii(returned.body) || !is_ascii(status);

  HeaderBlock original_headers(message);
  std::string out;
  out += "From: Mail Delivery System <MAILER-DAEMON@" + options.reporting_mta + ">\r\n";
  out += "To: <" + envelope.sender + ">\r\n";
  out += "Subject: " + std::string(subject_of(options.action)) + "\r\n";
  out += "Date: " + rfc5322_date(options.now) + "\r\n";
  out += "Message-ID: " + make_message_id(options.reporting_mta) + "\r\n";
  if (const HeaderField* id = original_headers.find("Message-ID")) {
    std::string value = field_text(id->value(), false);
    out += header_line("In-Reply-To", value);
    out += header_line("References", value);
  }
  out += "Auto-Submitted: auto-replied\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: multipart/report; report-type=" +
         std::string(utf8_report ? "global-delivery-status" : "delivery-status") + ";\r\n\tboundary=\"" + boundary + "\"\r\n";
  out += std::string("Content-Transfer-Encoding: ") + (eight_bit ? "8bit" : "7bit") + "\r\n";
  out += "\r\nThis is a MIME-encapsulated message: a delivery status notification.\r\n\r\n";

  out += "--" + boundary + "\r\n";
  out += std::string("Content-Type: text/plain; charset=") + (utf8_report ? "utf-8" : "us-ascii") + "\r\n";
  out += "Content-Description: Notification\r\n\r\n";
  out += human;
  out += "\r\n--" + boundary + "\r\n";
  out += std::string("Content-Type: ") + (utf8_report ? "message/global-delivery-status" : "message/delivery-status") + "\r\n";
  out += "Content-Description: Delivery report\r\n\r\n";
  out += status;
  out += "\r\n--" + boundary + "\r\n";
  out += "Content-Type: " + returned.content_type + "\r\n";
  out += "Content-Description: " + returned.description + "\r\n";
  if (!is_ascii(returned.body)) out += "Content-Transfer-Encoding: 8bit\r\n";
  out += "\r\n";
  out += returned.body;
  out += "\r\n--" + boundary + "--\r\n";
  return out;
}

Envelope dsn_envelope(const Envelope& original, std::string_view dsn_message, int64_t now) {
  Envelope envelope;
  envelope.sender = "";
  envelope.arrival = now;
  envelope.protocol = "local";
  envelope.body = is_ascii(dsn_message) ? "" : "8BITMIME";
  envelope.smtputf8 = original.smtputf8 && !is_ascii(original.sender);
  Recipient to;
  to.address = original.sender;
  to.notify = "NEVER";
  envelope.recipients.push_back(std::move(to));
  return envelope;
}

std::optional<std::string> send_dsn(Spool& spool, const Envelope& envelope, std::string_view message,
                                    const DsnOptions& options) {
  std::optional<std::string> dsn = make_dsn(envelope, message, options);
  if (!dsn) return std::nullopt;
  return spool.deposit(Stage::kIncoming, dsn_envelope(envelope, *dsn, options.now), *dsn);
}

}  // namespace relay
