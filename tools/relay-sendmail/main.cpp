// relay-sendmail: the sendmail(8) command line for applications (PHP's mail(), cron, scripts)
// that queue mail by piping it into /usr/sbin/sendmail. It queues into the spool's incoming/.
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "compose.hpp"
#include "relay/address.hpp"
#include "relay/cli.hpp"
#include "relay/exit_codes.hpp"
#include "relay/headers.hpp"
#include "relay/log.hpp"
#include "relay/spool.hpp"
#include "relay/spool_tools_listing.hpp"
#include "sendmail_args.hpp"

namespace {

using relay::Failure;

struct Settings {
  std::string spool_dir = "/var/spool/relay";
  bool read_recipients = false;
  bool ignore_dots = false;
  bool list_queue = false;
  bool verbose = false;
  std::string sender;
  bool sender_given = false;
  std::string full_name;
  std::string notify;
  std::string ret;
  std::string envid;
  uint64_t max_size = 50ull << 20;
  size_t max_recipients = 1000;
  std::vector<std::string> recipients;
};

std::string login_name() {
  const passwd* pw = getpwuid(getuid());
  return pw != nullptr && pw->pw_name[0] != '\0' ? pw->pw_name : "uid" + std::to_string(getuid());
}

// The envelope sender: -f as given ("<>" or "" is the null sender), else login@host.
std::string envelope_sender(const Settings& s, relay::Envelope& envelope) {
  if (!s.sender_given) return login_name() + "@" + relay::local_hostname();
  std::string text = s.sender;
  if (text.empty() || text == "<>") return "";
  auto result = text.front() == '<' ? relay::parse_path(text, true, true) : relay::parse_mailbox(text, true);
  if (!result.ok())
    throw Failure(relay::kExitData, "unable to use sender '" + relay::log::sanitize(text) + "': " + result.error);
  if (!result.mailbox) return "";
  envelope.smtputf8 |= result.mailbox->utf8;
  return result.mailbox->str();
}

// Each argument may itself be an address list ("a@x, Name <b@y>"), as sendmail allows.
std::vector<std::string> argument_addresses(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (const auto& arg : args) {
    auto list = relay::parse_address_list(arg);
    if (!list || list->empty())
      throw Failure(relay::kExitData, "unable to accept recipient '" + relay::log::sanitize(arg) + "': not an address");
    out.insert(out.end(), list->begin(), list->end());
  }
  return out;
}

void add_recipients(relay::Envelope& envelope, const std::vector<std::string>& addresses, const Settings& s) {
  for (const auto& text : addresses) {
    auto result = relay::parse_mailbox(text, true);
    if (!result.ok())
      throw Failure(relay::kExitData, "unable to accept recipient '" + relay::log::sanitize(text) + "': " + result.error);
    std::string address = result.mailbox->str();
    bool duplicate = std::any_of(envelope.recipients.begin(), envelope.recipients.end(),
                                 [&](const relay::Recipient& r) { return relay::iequals(r.address, address); });
    if (duplicate) continue;
    if (envelope.recipients.size() >= s.max_recipients)
      throw Failure(relay::kExitData, "unable to queue the message: more than " + std::to_string(s.max_recipients) +
                                          " recipients");
    envelope.smtputf8 |= result.mailbox->utf8;
    relay::Recipient& r = envelope.recipients.emplace_back();
    r.address = address;
    r.notify = s.notify;
  }
}

void check_dsn_options(const Settings& s) {
  static const std::vector<std::string> kNotify = {"NEVER", "SUCCESS", "FAILURE", "DELAY", "SUCCESS,FAILURE",
                                                   "SUCCESS,DELAY", "FAILURE,DELAY", "SUCCESS,FAILURE,DELAY"};
  if (!s.notify.empty() && std::find(kNotify.begin(), kNotify.end(), s.notify) == kNotify.end())
    throw Failure(relay::kExitUsage, "unable to use -N " + relay::log::sanitize(s.notify) +
                                         ": expected NEVER or a list of SUCCESS, FAILURE, DELAY");
  if (!s.ret.empty() && s.ret != "FULL" && s.ret != "HDRS")
    throw Failure(relay::kExitUsage, "unable to use -R " + relay::log::sanitize(s.ret) + ": expected FULL or HDRS");
}

// RFC 3461 xtext, the form ENVID takes in the envelope.
std::string xtext(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c > 32 && c < 127 && c != '+' && c != '=') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "+%02X", c);
      out += buf;
    }
  }
  return out;
}

int inject(const Settings& s, const relay::Clock& clock) {
  check_dsn_options(s);
  if (!s.read_recipients && s.recipients.empty())
    throw Failure(relay::kExitUsage, "unable to queue the message: no recipients (name them as arguments or use -t)");
  relay::Spool spool(s.spool_dir);

  relay::Envelope envelope;
  envelope.sender = envelope_sender(s, envelope);
  envelope.arrival = clock.seconds();
  envelope.protocol = "local";
  envelope.ret = s.ret;
  envelope.envid = xtext(s.envid.substr(0, 100));
  envelope.extra.emplace_back("local-user", login_name());
  add_recipients(envelope, argument_addresses(s.recipients), s);

  std::string input = relay::sendmail::read_input(STDIN_FILENO, !s.ignore_dots, s.max_size);
  relay::sendmail::ComposeOptions options{
      .read_recipients = s.read_recipients,
      .from_address = envelope.sender.empty() ? login_name() + "@" + relay::local_hostname() : envelope.sender,
      .full_name = s.full_name,
      .hostname = relay::local_hostname(),
      .now = clock.seconds()};
  relay::sendmail::Composed composed = relay::sendmail::compose(input, options);
  add_recipients(envelope, composed.header_recipients, s);
  if (envelope.recipients.empty())
    throw Failure(relay::kExitData, "unable to queue the message: no recipient addresses found in its To, Cc or Bcc");
  if (std::any_of(composed.message.begin(), composed.message.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
    envelope.body = "8BITMIME";

  std::string id = spool.deposit(relay::Stage::kIncoming, std::move(envelope), composed.message);
  if (s.verbose) {
    relay::log::event({{"id", id}, {"size", std::to_string(composed.message.size())}, {"status", "queued"}});
  }
  return relay::kExitOk;
}

int list(const Settings& s, bool json) {
  relay::Spool spool(s.spool_dir);
  relay::listing::Options options;
  options.json = json;
  std::setvbuf(stdout, nullptr, _IOFBF, 1 << 16);
  relay::listing::list_queue(spool, options, stdout);
  return relay::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> raw(argv, argv + argc);
  std::string invoked_as = raw.empty() ? "" : raw[0].substr(raw[0].rfind('/') + 1);
  relay::sendmail::TranslatedArgs translated = relay::sendmail::translate(raw, invoked_as);

  relay::Tool tool("relay-sendmail", "Queue a message the way sendmail(8) does: read it on standard input and "
                                     "store it in the relay spool's incoming/.");
  tool.add_json();
  tool.add_now();
  Settings s;
  CLI::App& app = tool.app();
  app.add_option("--spool", s.spool_dir, "spool directory")->envname("RELAY_SPOOL")->capture_default_str();
  app.add_flag("--read-recipients", s.read_recipients, "-t: take recipients from To, Cc and Bcc as well");
  app.add_flag("--ignore-dots", s.ignore_dots, "-i, -oi: a line with a single dot does not end the message");
  app.add_flag("--list-queue", s.list_queue, "-bp: list the queue (as spool-ls) instead of queueing");
  app.add_flag("--verbose", s.verbose, "-v: log the queue id of the queued message");
  app.add_option("--sender", s.sender, "-f, -r: envelope sender (\"<>\" for the null sender)");
  app.add_option("--full-name", s.full_name, "-F: display name of the From: field added when missing");
  app.add_option("--notify", s.notify, "-N: DSN NOTIFY for every recipient (NEVER or SUCCESS,FAILURE,DELAY)");
  app.add_option("--ret", s.ret, "-R: DSN RET (FULL or HDRS)");
  app.add_option("--envid", s.envid, "-V: DSN ENVID");
  app.add_option("--max-size", s.max_size, "largest message accepted, in bytes")->capture_default_str();
  app.add_option("--max-recipients", s.max_recipients, "most recipients accepted")->capture_default_str();
  app.add_option("recipients", s.recipients, "recipient addresses");

  std::vector<char*> args;
  for (auto& arg : translated.args) args.push_back(arg.data());
  return tool.run(static_cast<int>(args.size()), args.data(), [&] {
    if (!translated.error.empty()) throw Failure(relay::kExitUsage, "unable to parse the command line: " + translated.error);
    s.sender_given = app.count("--sender") > 0;
    return s.list_queue ? list(s, tool.json()) : inject(s, tool.clock());
  });
}
