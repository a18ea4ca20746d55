// One message in, one report out: finds the report parts of a bounce, hands each to its reader,
// and fills in what the original message and the bounce's own header say.
#include <algorithm>

#include "bounce_internal.hpp"
#include "relay/clock.hpp"

namespace relay::bounce {
namespace {

using detail::find_address;
using detail::one_line;

struct Found {
  const mime::Part* delivery_status = nullptr;
  const mime::Part* feedback = nullptr;
  const mime::Part* plain = nullptr;
  const mime::Part* html = nullptr;
  const mime::Part* original = nullptr;  // the enclosed message or its header section
};

void walk(const mime::Part& part, Found& found) {
  const mime::ContentType& ct = part.content_type;
  if (ct.type == "message" && (ct.subtype == "delivery-status" || ct.subtype == "global-delivery-status")) {
    if (!found.delivery_status) found.delivery_status = &part;
  } else if (ct.is("message", "feedback-report")) {
    if (!found.feedback) found.feedback = &part;
  } else if ((ct.type == "message" && (ct.subtype == "rfc822" || ct.subtype == "global" || ct.subtype == "global-headers")) ||
             ct.is("text", "rfc822-headers")) {
    if (!found.original) found.original = &part;  // not entered: its parts are not the report's
  } else if (ct.is_multipart()) {
    for (const mime::Part& child : part.children) walk(child, found);
  } else if (ct.is("text", "plain")) {
    if (!found.plain) found.plain = &part;
  } else if (ct.is("text", "html")) {
    if (!found.html) found.html = &part;
  }
}

// HTML as plain lines: tags dropped (block tags end a line), the common entities decoded.
std::string html_to_text(std::string_view html) {
  std::string out;
  for (size_t i = 0; i < html.size(); ++i) {
    if (html[i] == '<') {
      size_t end = html.find('>', i);
      if (end == std::string_view::npos) break;
      std::string tag = to_lower(html.substr(i + 1, std::min<size_t>(end - i - 1, 4)));
      if (tag.starts_with("br") || tag.starts_with("p") || tag.starts_with("/p") || tag.starts_with("div") ||
          tag.starts_with("/div") || tag.starts_with("tr") || tag.starts_with("li"))
        out += '\n';
      i = end;
    } else if (html[i] == '&') {
      static const std::pair<std::string_view, char> kEntities[] = {{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&nbsp;", ' '}, {"&quot;", '"'}};
      bool decoded = false;
      for (const auto& [name, c] : kEntities)
        if (html.substr(i, name.size()) == name) {
          out += c;
          i += name.size() - 1;
          decoded = true;
          break;
        }
      if (!decoded) out += '&';
    } else {
      out += html[i];
    }
  }
  return out;
}

bool is_auto_reply(const mime::Part& root, std::string_view subject) {
  std::string submitted = to_lower(root.header("Auto-Submitted"));
  if (submitted.starts_with("auto-replied")) return true;
  for (std::string_view name : {"X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Vacation"})
    if (root.headers.find(name)) return true;
  if (to_lower(root.header("Precedence")) == "auto_reply") return true;
  static constexpr std::string_view kSubjects[] = {
      "auto:", "automatic reply", "autoreply", "auto-reply", "auto reply", "out of office", "out of the office",
      "vacation", "away from", "abwesenheit", "réponse automatique", "respuesta automática", "automatische antwort"};
  std::string lower = to_lower(subject);
  return std::any_of(std::begin(kSubjects), std::end(kSubjects), [&](std::string_view s) { return lower.starts_with(s); });
}

bool from_mail_system(std::string_view from) {
  std::string lower = to_lower(from);
  return lower.starts_with("mailer-daemon@") || lower.starts_with("postmaster@") || lower == "mailer-daemon";
}

struct Original {
  std::string message_id;
  std::string return_path;
  std::string to;
};

Original read_original(const Found& found, std::string_view human) {
  std::string owned;  // the header text when it had to be decoded; HeaderBlock points into it
  std::string_view text;
  if (found.original && !found.original->children.empty()) {
    text = found.original->children.front().raw;
  } else if (found.original) {
    owned = found.original->decoded();
    text = owned;
  } else if (size_t copy = detail::original_copy_offset(human); copy != std::string_view::npos) {
    text = human.substr(copy);
    while (!text.empty() && (text.front() == '\n' || text.front() == '\r' || text.front() == ' ')) text.remove_prefix(1);
  }
  Original original;
  if (text.empty()) return original;
  HeaderBlock headers(text);
  if (const HeaderField* id = headers.find("Message-ID")) original.message_id = one_line(id->value());
  if (const HeaderField* rp = headers.find("Return-Path")) original.return_path = find_address(rp->value());
  if (const HeaderField* to = headers.find("To")) original.to = find_address(to->value());
  return original;
}

// A DSN may leave a recipient without Diagnostic-Code (Exim's for an address it cannot route)
// and give the words in its text part only; the text reader finds them there.
void diagnostics_from_text(const detail::TextBounce& text, Report& report, const Options& options) {
  auto wordless = [](const Recipient& r) { return r.diagnostic.empty(); };
  if (std::none_of(report.recipients.begin(), report.recipients.end(), wordless)) return;
  Report from_text;
  if (!detail::read_text_bounce(text, from_text, options)) return;
  for (Recipient& r : report.recipients) {
    if (!wordless(r)) continue;
    for (const Recipient& t : from_text.recipients) {
      if (t.diagnostic.empty() || t.address.size() != r.address.size() || !detail::starts_with_nocase(t.address, r.address))
        continue;
      r.diagnostic = t.diagnostic;
      r.reason = Reason::kOther;  // decided again, now with the words
      detail::complete(r);
      break;
    }
  }
}

}  // namespace

Report parse(std::string_view message, const Options& options) {
  Report report;
  mime::Part root = mime::parse(message, options.mime);
  Found found;
  walk(root, found);
  if (!root.content_type.is_multipart() && !found.plain && root.content_type.type == "text" && !found.html) found.plain = &root;

  detail::TextBounce text;
  text.subject = mime::decode_header(root.header("Subject"));
  text.from = find_address(mime::decode_header(root.header("From")));
  for (const HeaderField* field : root.headers.find_all("X-Failed-Recipients")) {
    std::string value = field->value();
    size_t start = 0;
    while (start < value.size() && text.failed_recipients.size() < options.max_recipients) {
      size_t comma = value.find(',', start);
      std::string address = find_address(value.substr(start, comma - start));
      if (!address.empty()) text.failed_recipients.push_back(address);
      start = comma == std::string::npos ? value.size() : comma + 1;
    }
  }
  std::string human = found.plain ? found.plain->text() : found.html ? html_to_text(found.html->text()) : std::string();
  text.body = human;

  if (found.feedback && detail::read_feedback_report(found.feedback->text(), report, options)) {
    report.kind = Kind::kComplaint;
    report.format = "arf";
  } else if (found.delivery_status && detail::read_delivery_status(found.delivery_status->text(), report, options)) {
    report.kind = Kind::kBounce;
    std::string status_text = found.delivery_status->text();
    bool postfix_fields = status_text.find("X-Postfix") != std::string::npos;
    bool exchange_header = root.headers.find("X-MS-Exchange-Message-Is-Ndr") != nullptr;
    report.format = detail::dsn_family(text, report.reporting_mta, postfix_fields, exchange_header);
    if (report.format.empty()) report.format = "rfc3464";
    diagnostics_from_text(text, report, options);
  } else if (report.why_not.empty() && !from_mail_system(text.from) && is_auto_reply(root, text.subject)) {
    report.kind = Kind::kAutoReply;
    report.format = "auto-reply";
    Recipient r;
    r.address = text.from;
    r.action = "auto-replied";
    r.diagnostic = text.subject;
    r.reason = Reason::kAutoReply;
    detail::complete(r);
    report.recipients.push_back(std::move(r));
  } else if (report.why_not.empty() && detail::read_text_bounce(text, report, options)) {
    report.kind = Kind::kBounce;
    // A text bounce names no reporting MTA; the host in its From address wrote it.
    if (report.reporting_mta.empty() && text.from.find('@') != std::string::npos)
      report.reporting_mta = text.from.substr(text.from.find('@') + 1);
  }

  Original original = read_original(found, human);
  if (!original.message_id.empty()) report.message_id = original.message_id;
  // Without the original, a reply names it: bounces from some providers and most auto-replies.
  if (report.message_id.empty() && report.kind != Kind::kComplaint) {
    std::string in_reply_to = one_line(root.header("In-Reply-To"));
    if (size_t open = in_reply_to.find('<'), close = in_reply_to.find('>');
        open != std::string::npos && close != std::string::npos && open < close)
      report.message_id = in_reply_to.substr(open, close - open + 1);
  }
  if (report.envelope_sender.empty()) report.envelope_sender = original.return_path;
  if (report.envelope_sender.empty() && report.kind == Kind::kBounce)
    report.envelope_sender = find_address(root.header("To"));  // a bounce goes to the envelope sender
  for (Recipient& r : report.recipients) {
    if (r.address.empty() && report.kind == Kind::kComplaint) {
      r.address = original.to;
      detail::complete(r);
    }
  }
  std::erase_if(report.recipients, [](const Recipient& r) { return r.address.empty(); });

  std::string date = one_line(root.header("Date"));
  auto seconds = parse_rfc5322_date(date);
  report.date = seconds ? iso_time(*seconds) : date;

  if (report.recipients.empty() && report.kind != Kind::kBounce) {
    if (report.why_not.empty())
      report.why_not = report.kind == Kind::kComplaint ? "the feedback report names no recipient"
                                                        : "no delivery status, feedback report or bounce text found";
    report.kind = Kind::kNotBounce;
  }
  if (report.kind == Kind::kBounce && report.recipients.empty() && !found.delivery_status) {
    report.why_not = "the bounce names no failed recipient";
    report.kind = Kind::kNotBounce;
  }
  return report;
}

}  // namespace relay::bounce
