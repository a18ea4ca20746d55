// The bounces that are no RFC 3464 report: qmail's QSBMF (and Yahoo's copy of it), Exim,
// Sendmail, Microsoft Exchange, Gmail and old Hotmail, Postfix's and OpenSMTPD's text, and a last resort that
// pairs addresses with reply codes in the text of anything that says it is a bounce.
#include <algorithm>
#include <deque>
#include <map>

#include "bounce_internal.hpp"

namespace relay::bounce::detail {
namespace {

using Lines = std::vector<std::string_view>;
constexpr size_t kNone = static_cast<size_t>(-1);
constexpr size_t kMaxTranscriptLines = 2000;  // real transcripts are a few dozen lines

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool blank(std::string_view line) { return trim(line).empty(); }

size_t indent_of(std::string_view line) {
  size_t n = 0;
  while (n < line.size() && (line[n] == ' ' || line[n] == '\t')) ++n;
  return n;
}

size_t find_line(const Lines& lines, size_t from, std::initializer_list<std::string_view> phrases) {
  for (size_t i = from; i < lines.size(); ++i)
    for (std::string_view p : phrases)
      if (contains_nocase(lines[i], p)) return i;
  return kNone;
}

bool is_copy_marker(std::string_view line) {
  static constexpr std::string_view kMarkers[] = {
      "below this line is a copy of the message", "this is a copy of the message", "original message follows",
      "message header follows", "original message headers:", "----- original message -----",
      "enclosed are the original headers", "below is a copy of the original message", "returned message follows",
      "this is a copy of the headers"};
  if (line.size() > 200) return false;
  return std::any_of(std::begin(kMarkers), std::end(kMarkers), [&](std::string_view m) { return contains_nocase(line, m); });
}

// The text between "after" and the next '[' or whitespace, trailing dots and colons removed.
std::string word_after(std::string_view text, std::string_view after) {
  auto it = std::search(text.begin(), text.end(), after.begin(), after.end(),
                        [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)); });
  if (it == text.end()) return "";
  std::string_view rest = text.substr(static_cast<size_t>(it - text.begin()) + after.size());
  size_t end = rest.find_first_of(" \t[(,'");
  std::string_view word = rest.substr(0, end);
  while (!word.empty() && (word.back() == '.' || word.back() == ':')) word.remove_suffix(1);
  return std::string(word);
}

// The remote host a text names in the ways MTAs write it.
std::string remote_mta_in(std::string_view text) {
  for (std::string_view lead : {"host ", "Connected to ", "while talking to ", "Remote host "}) {
    std::string w = word_after(text, lead);
    if (!w.empty() && w != "said" && (w.find('.') != std::string::npos)) return w;
  }
  // "192.0.2.1 does not like recipient." (qmail), "mx.example.com. [192.0.2.1]" (Gmail)
  for (std::string_view follower : {" does not like recipient", " ["}) {
    size_t at = text.find(follower);
    if (at == std::string_view::npos || at == 0) continue;
    size_t start = text.rfind(' ', at - 1);
    start = start == std::string_view::npos ? 0 : start + 1;
    std::string_view word = text.substr(start, at - start);
    while (!word.empty() && word.back() == '.') word.remove_suffix(1);
    if (word.find('.') != std::string_view::npos && word.find_first_of("@()<>") == std::string_view::npos)
      return std::string(word);
  }
  return "";
}

struct Builder {
  Report& report;
  const Options& options;
  std::deque<Recipient> pending;  // a deque: readers keep pointers to entries while adding more
  Recipient spare;                // what add() hands out past the limit, never reported

  Recipient& add(std::string address, std::string action) {
    if (pending.size() >= options.max_recipients) {
      spare = Recipient{};
      return spare;
    }
    pending.push_back(Recipient{});
    pending.back().address = std::move(address);
    pending.back().action = std::move(action);
    return pending.back();
  }
  bool finish(std::string_view format) {
    if (pending.empty()) return false;
    for (Recipient& r : pending) {
      if (report.recipients.size() >= options.max_recipients) break;
      if (r.remote_mta.empty()) r.remote_mta = remote_mta_in(r.diagnostic);
      complete(r);
      report.recipients.push_back(std::move(r));
    }
    report.format = std::string(format);
    return true;
  }
};

void append(std::string& to, std::string_view text) {
  if (!to.empty()) to += ' ';
  to.append(trim(text));
}

// "<a@b>:" paragraphs (QSBMF, Yahoo, Postfix's text): the address line, then text up to a blank
// line. Text on the address line itself is kept (Postfix writes it there).
void read_paragraphs(const Lines& lines, size_t from, Builder& out) {
  Recipient* current = nullptr;
  for (size_t i = from; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (is_copy_marker(line)) break;
    size_t close = line.find(">:");
    if (!line.empty() && line[0] == '<' && close != std::string_view::npos && line.substr(1, close - 1).find('@') != std::string_view::npos) {
      current = &out.add(std::string(line.substr(1, close - 1)), "failed");
      append(current->diagnostic, line.substr(close + 2));
    } else if (blank(line)) {
      current = nullptr;
    } else if (current) {
      append(current->diagnostic, line);
    }
  }
}

bool read_qmail(const Lines& lines, const TextBounce& in, Builder& out) {
  size_t start = find_line(lines, 0, {"This is the qmail-send program", "I'm afraid I wasn't able to deliver"});
  std::string format = "qmail";
  if (size_t yahoo = find_line(lines, 0, {"Sorry, we were unable to deliver your message", "Unable to deliver message to the following address"});
      yahoo != kNone && (start == kNone || yahoo < start)) {
    start = yahoo;
    format = "yahoo";
  }
  if (start == kNone) return false;
  if (format == "qmail" && contains_nocase(in.from, "yahoo")) format = "yahoo";
  read_paragraphs(lines, start + 1, out);
  return out.finish(format);
}

bool read_postfix_text(const Lines& lines, Builder& out) {
  size_t start = find_line(lines, 0, {"This is the mail system at host", "This is the Postfix program at host"});
  if (start == kNone) return false;
  read_paragraphs(lines, start + 1, out);
  if (find_line(lines, start, {"THIS IS A WARNING ONLY", "could not be delivered for more than"}) != kNone)
    for (Recipient& r : out.pending) r.action = "delayed";
  return out.finish("postfix");
}

// OpenSMTPD: "address: reply" lines after "... the following list of recipients:", up to a blank
// line; the reply may be OpenSMTPD's own words ("Envelope expired").
bool read_opensmtpd(const Lines& lines, Builder& out) {
  if (find_line(lines, 0, {"This is the MAILER-DAEMON, please DO NOT REPLY"}) == kNone) return false;
  size_t start = find_line(lines, 0, {"list of recipients:"});
  if (start == kNone) return false;
  std::string action = find_line(lines, 0, {"A message is delayed"}) == kNone ? "failed" : "delayed";
  size_t i = start + 1;
  while (i < lines.size() && blank(lines[i])) ++i;
  for (; i < lines.size() && !blank(lines[i]); ++i) {
    std::string_view line = trim(lines[i]);
    size_t colon = line.find(": ");
    if (colon == std::string_view::npos || line.substr(0, colon).find('@') == std::string_view::npos) continue;
    out.add(std::string(line.substr(0, colon)), action).diagnostic = std::string(trim(line.substr(colon + 2)));
  }
  return out.finish("text");
}

bool read_exim(const Lines& lines, Builder& out) {
  if (find_line(lines, 0, {"This message was created automatically by mail delivery software"}) == kNone) return false;
  size_t start = find_line(lines, 0, {"address(es) failed", "has not yet been delivered is:", "have not yet been delivered are:",
                                      "not yet been delivered to the following"});
  if (start == kNone) return false;
  std::string action = find_line(lines, 0, {"has not yet been delivered"}) != kNone ? "delayed" : "failed";
  Recipient* current = nullptr;
  for (size_t i = start + 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (is_copy_marker(line)) break;
    if (blank(line)) continue;
    size_t indent = indent_of(line);
    if (indent == 0) break;
    std::string address = indent <= 2 ? find_address(line) : "";
    if (!address.empty()) {
      current = &out.add(address, action);
      std::string_view rest = trim(line);
      size_t colon = rest.find(": ");
      if (colon != std::string_view::npos) append(current->diagnostic, rest.substr(colon + 2));
    } else if (current) {
      append(current->diagnostic, line);
    }
  }
  return out.finish("exim");
}

bool read_sendmail(const Lines& lines, Builder& out) {
  size_t permanent = find_line(lines, 0, {"The following addresses had permanent fatal errors"});
  size_t transient = find_line(lines, 0, {"The following addresses had transient non-fatal errors"});
  size_t transcript = find_line(lines, 0, {"Transcript of session follows"});
  if (permanent == kNone && transient == kNone && transcript == kNone) return false;
  for (auto [start, action] : {std::pair{permanent, "failed"}, std::pair{transient, "delayed"}}) {
    if (start == kNone) continue;
    Recipient* current = nullptr;
    for (size_t i = start + 1; i < lines.size() && !blank(lines[i]) && lines[i].find("-----") == std::string_view::npos; ++i) {
      std::string_view t = trim(lines[i]);
      if (starts_with_nocase(t, "(reason:")) {
        if (current) append(current->diagnostic, t.substr(8, t.size() > 9 ? t.size() - 9 : 0));
      } else if (t.front() != '(') {
        if (std::string address = find_address(t); !address.empty()) current = &out.add(address, action);
      }
    }
  }
  if (transcript != kNone) {
    // The session transcript: the reply to each recipient, and the host it came from. A
    // "(reason: ...)" line in the list above is the better diagnostic when there is one.
    std::vector<const Recipient*> with_reason;
    for (const Recipient& r : out.pending)
      if (!r.diagnostic.empty()) with_reason.push_back(&r);
    std::string host;
    size_t last = std::min(lines.size(), transcript + 1 + kMaxTranscriptLines);
    for (size_t i = transcript + 1; i < last && !is_copy_marker(lines[i]); ++i) {
      std::string_view t = trim(lines[i]);
      if (contains_nocase(t, "while talking to ")) host = word_after(t, "while talking to ");
      for (Recipient& r : out.pending)  // "<a@b>... Deferred: Connection timed out with mx.example."
        if (r.diagnostic.empty() && contains_nocase(t, r.address)) r.diagnostic = std::string(t);
      std::string_view reply = t;
      if (starts_with_nocase(reply, "<<< ")) reply.remove_prefix(4);
      if (starts_with_nocase(reply, ">>> ") || find_smtp_code(reply.substr(0, 4)) < 400) continue;
      std::string address = find_address(reply);
      if (address.empty() && i > 0) address = find_address(trim(lines[i - 1]));  // ">>> RCPT To:<a@b>" then "<<< 550 ..."
      Recipient* match = nullptr;
      for (Recipient& r : out.pending)
        if (iequals(r.address, address)) match = &r;
      if (!match && out.pending.size() == 1) match = &out.pending.front();
      if (!match && out.pending.empty() && !address.empty() && permanent == kNone && transient == kNone)
        match = &out.add(address, reply[0] == '4' ? "delayed" : "failed");
      if (!match) continue;
      if (std::find(with_reason.begin(), with_reason.end(), match) == with_reason.end())
        match->diagnostic = std::string(reply);
      if (match->remote_mta.empty()) match->remote_mta = host;
    }
  }
  return out.finish("sendmail");
}

// "<mx.example.com #5.1.1 smtp;550 5.1.1 User unknown>", as Exchange 2003 ends each entry.
bool read_exchange_angle(std::string_view t, Recipient& r) {
  if (t.size() < 4 || t.front() != '<' || t.back() != '>' || t.find('#') == std::string_view::npos) return false;
  std::string_view inner = t.substr(1, t.size() - 2);
  size_t hash = inner.find('#');
  r.remote_mta = std::string(trim(inner.substr(0, hash)));
  std::string_view rest = inner.substr(hash + 1);
  r.status = find_status(rest.substr(0, rest.find(' ')));
  size_t smtp = rest.find("smtp;");
  r.diagnostic = std::string(trim(smtp == std::string_view::npos ? rest : rest.substr(smtp + 5)));
  return true;
}

// "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##" -> the reply without Exchange's "##".
std::string between_hashes(std::string_view said) {
  if (said.ends_with("##")) said.remove_suffix(2);
  return std::string(trim(said));
}

bool read_exchange(const Lines& lines, const TextBounce& in, Builder& out) {
  std::string format = contains_nocase(in.body, ".outlook.com") ? "office365" : "exchange";
  if (size_t admin = find_line(lines, 0, {"Diagnostic information for administrators"}); admin != kNone) {
    Recipient* current = nullptr;
    for (size_t i = admin + 1; i < lines.size() && !is_copy_marker(lines[i]); ++i) {
      std::string_view t = trim(lines[i]);
      if (starts_with_nocase(t, "Generating server:")) {
        out.report.reporting_mta = std::string(trim(t.substr(18)));
      } else if (starts_with_nocase(t, "Remote Server returned") && current) {
        size_t q = t.find('\'');
        std::string_view said = q == std::string_view::npos ? t.substr(22) : t.substr(q + 1);
        if (!said.empty() && said.back() == '\'') said.remove_suffix(1);
        current->diagnostic = std::string(said);
      } else if (!t.empty() && t[0] == '#' && current) {
        current->diagnostic = between_hashes(t.substr(1));
      } else if (std::string address = find_address(t); !address.empty() && t.find(' ') == std::string_view::npos) {
        current = &out.add(address, "failed");
      } else if (size_t hash = t.find(" #"); current && hash != std::string_view::npos) {  // "mx.example.com #550 ... ##"
        current->remote_mta = std::string(t.substr(0, hash));
        current->diagnostic = between_hashes(t.substr(hash + 2));
      } else if (current && current->diagnostic.empty() && !t.empty() && !contains_nocase(t, "server:")) {
        current->remote_mta = std::string(t);
      }
    }
    return out.finish(format);
  }
  size_t start = find_line(lines, 0, {"could not be reached:", "cannot be reached:", "Delivery has failed to these recipients or groups:"});
  if (start == kNone) return false;
  Recipient* current = nullptr;
  for (size_t i = start + 1; i < lines.size() && !is_copy_marker(lines[i]); ++i) {
    std::string_view t = trim(lines[i]);
    if (t.empty()) continue;
    if (current && read_exchange_angle(t, *current)) continue;
    std::string address = find_address(t);
    bool leads = !address.empty() && (t.find(address) < 2 || t.find('(') < t.find(address));
    if (leads) {
      current = &out.add(address, "failed");
    } else if (current && current->diagnostic.empty()) {
      append(current->diagnostic, t);
    }
  }
  return out.finish(format);
}

bool read_gmail_style(const Lines& lines, const TextBounce& in, Builder& out) {
  size_t start = find_line(lines, 0, {"Delivery to the following recipient", "Delivery to the following recipients"});
  if (start == kNone) return false;
  std::string action = contains_nocase(lines[start], "delayed") ? "delayed" : "failed";
  size_t i = start + 1;
  while (i < lines.size() && blank(lines[i])) ++i;
  std::vector<Recipient*> added;
  for (; i < lines.size() && !blank(lines[i]); ++i)
    if (std::string address = find_address(lines[i]); !address.empty()) added.push_back(&out.add(address, action));
  std::string diagnostic;
  std::string remote;
  size_t said = find_line(lines, i, {"The error that the other server returned was:"});
  if (said == kNone) said = find_line(lines, i, {"Technical details of"});
  if (said != kNone) {
    if (size_t details = find_line(lines, i, {"Technical details of"}); details != kNone) {
      std::string paragraph;
      for (size_t j = details + 1; j < lines.size() && !blank(lines[j]); ++j) append(paragraph, lines[j]);
      remote = remote_mta_in(paragraph);
    }
    for (size_t j = said + 1; j < lines.size() && !blank(lines[j]); ++j) append(diagnostic, lines[j]);
  }
  for (Recipient* r : added) {
    r->diagnostic = diagnostic;
    r->remote_mta = remote;
  }
  std::string format = "text";
  if (contains_nocase(in.from, "google") || contains_nocase(in.from, "gmail") || contains_nocase(in.body, "Google tried"))
    format = "gmail";
  else if (contains_nocase(in.from, "hotmail") || contains_nocase(in.from, "outlook.com") || contains_nocase(in.from, "live.com"))
    format = "outlook";
  return out.finish(format);
}

bool says_bounce(const TextBounce& in) {
  static constexpr std::string_view kSenders[] = {"mailer-daemon", "postmaster", "mail delivery", "mdaemon"};
  static constexpr std::string_view kSubjects[] = {
      "undeliver", "delivery status notification", "failure notice", "returned mail", "mail delivery failed",
      "delivery failure", "delivery failed", "non remis", "unzustellbar", "nondeliverable", "could not be delivered",
      "delivery problem", "mail system error"};
  std::string from = to_lower(in.from);
  std::string subject = to_lower(in.subject);
  return !in.failed_recipients.empty() ||
         std::any_of(std::begin(kSenders), std::end(kSenders), [&](std::string_view s) { return from.find(s) != std::string::npos; }) ||
         std::any_of(std::begin(kSubjects), std::end(kSubjects), [&](std::string_view s) { return subject.find(s) != std::string::npos; });
}

// The last resort: the recipients X-Failed-Recipients names, or each line that holds both an
// address and a 4xx/5xx reply.
bool read_generic(const Lines& lines, const TextBounce& in, Builder& out) {
  if (!says_bounce(in)) return false;
  size_t end = lines.size();
  for (size_t i = 0; i < lines.size(); ++i)
    if (is_copy_marker(lines[i])) {
      end = i;
      break;
    }
  // Each reply line once, by the address it names: one pass, however many recipients.
  std::map<std::string, std::string> reply_by_address;
  std::string first_reply;
  for (size_t i = 0; i < end; ++i) {
    if (find_smtp_code(lines[i]) < 400) continue;
    std::string line(trim(lines[i]));
    if (first_reply.empty()) first_reply = line;
    reply_by_address.emplace(to_lower(find_address(line)), line);
  }
  for (const std::string& address : in.failed_recipients) {
    Recipient& r = out.add(address, "failed");
    auto it = reply_by_address.find(to_lower(address));
    r.diagnostic = it != reply_by_address.end() ? it->second : first_reply;
  }
  if (out.pending.empty()) read_paragraphs(lines, 0, out);
  if (out.pending.empty()) {
    for (size_t i = 0; i < end; ++i) {
      int code = find_smtp_code(lines[i]);
      std::string address = code >= 400 ? find_address(lines[i]) : "";
      if (address.empty()) continue;
      Recipient& r = out.add(address, code / 100 == 4 ? "delayed" : "failed");
      r.diagnostic = std::string(trim(lines[i]));
    }
  }
  return out.finish("text");
}

}  // namespace

size_t original_copy_offset(std::string_view body) {
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    size_t next = nl == std::string_view::npos ? body.size() : nl + 1;
    if (is_copy_marker(body.substr(pos, next - pos))) return next;
    pos = next;
  }
  return std::string_view::npos;
}

bool read_text_bounce(const TextBounce& in, Report& report, const Options& options) {
  Lines lines = split_lines(in.body);
  Builder out{report, options, {}, {}};
  return read_qmail(lines, in, out) || read_postfix_text(lines, out) || read_opensmtpd(lines, out) || read_exim(lines, out) ||
         read_sendmail(lines, out) || read_exchange(lines, in, out) || read_gmail_style(lines, in, out) ||
         read_generic(lines, in, out);
}

std::string dsn_family(const TextBounce& in, std::string_view reporting_mta, bool postfix_fields, bool exchange_header) {
  std::string from = to_lower(in.from);
  std::string mta = to_lower(reporting_mta);
  if (postfix_fields || contains_nocase(in.body, "This is the mail system at host")) return "postfix";
  if (from.find("googlemail.com") != std::string::npos || from.find("@gmail.com") != std::string::npos ||
      mta.ends_with("googlemail.com") || mta.ends_with("google.com"))
    return "gmail";
  if (from.find("yahoo") != std::string::npos || mta.find("yahoo") != std::string::npos) return "yahoo";
  if (from.ends_with("@outlook.com") || from.ends_with("@hotmail.com") || from.ends_with("@live.com")) return "outlook";
  if (mta.ends_with(".outlook.com")) return "office365";
  if (exchange_header || contains_nocase(in.body, "Diagnostic information for administrators")) return "exchange";
  if (contains_nocase(in.body, "This message was created automatically by mail delivery software")) return "exim";
  if (contains_nocase(in.body, "The following addresses had permanent fatal errors") ||
      contains_nocase(in.body, "Transcript of session follows") || contains_nocase(in.body, "The original message was received at"))
    return "sendmail";
  return "";
}

}  // namespace relay::bounce::detail
