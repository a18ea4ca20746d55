#include "suppress_input.hpp"

#include "json_line.hpp"
#include "relay/address.hpp"
#include "relay/clock.hpp"
#include "relay/exit_codes.hpp"
#include "relay/headers.hpp"
#include "relay/log.hpp"

namespace relay_policy {
namespace {

constexpr size_t kMaxLine = 65536;
constexpr size_t kMaxEntries = 1000000;

std::string trim(const std::string& text) {
  size_t a = text.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  size_t b = text.find_last_not_of(" \t\r");
  return text.substr(a, b - a + 1);
}

}  // namespace

std::string suppression_key(const std::string& text) {
  std::string bare = text;
  if (bare.size() >= 2 && bare.front() == '<' && bare.back() == '>') bare = bare.substr(1, bare.size() - 2);
  if (bare.find('@') != std::string::npos) {
    relay::AddressResult parsed = relay::parse_mailbox(bare, true);
    if (!parsed.ok() || !parsed.mailbox || parsed.mailbox->literal)
      throw relay::Failure(relay::kExitData, "invalid address \"" + relay::log::sanitize(text) + "\"" +
                                                 (parsed.ok() ? "" : ": " + parsed.error));
    return relay::to_lower(parsed.mailbox->str());
  }
  if (!relay::valid_domain(bare, true))
    throw relay::Failure(relay::kExitData, "invalid address or domain \"" + relay::log::sanitize(text) + "\"");
  return relay::to_lower(bare);
}

SuppressInput read_suppress_input(std::istream& in, const std::string& source, const std::string& reason,
                                  int64_t now, int64_t expire_after) {
  SuppressInput out;
  std::string line;
  size_t line_no = 0;
  auto fail = [&](const std::string& what) -> relay::Failure {
    return relay::Failure(relay::kExitData,
                          "unable to read " + source + ":" + std::to_string(line_no) + ": " + what);
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (line.size() > kMaxLine) throw fail("line longer than 64 KiB");
    std::string text = trim(line);
    if (text.empty() || text.front() == '#') continue;
    relay::policy::Suppression entry;
    entry.reason = reason;
    entry.added = now;
    if (text.front() == '{') {
      std::string error;
      auto object = parse_json_object(text, &error);
      if (!object) throw fail("invalid JSON: " + error);
      auto field = [&](const char* name) -> const JsonScalar* {
        auto it = object->find(name);
        return it == object->end() ? nullptr : &it->second;
      };
      const JsonScalar* recipient = field("recipient");
      if (!recipient || recipient->kind != JsonScalar::Kind::kString || recipient->text.empty()) {
        ++out.no_recipient;
        continue;
      }
      if (const JsonScalar* hard = field("hard"); hard && hard->kind == JsonScalar::Kind::kBool && hard->text == "false") {
        ++out.soft;
        continue;
      }
      try {
        entry.entry = suppression_key(recipient->text);
      } catch (const relay::Failure& e) {
        throw fail(e.what());
      }
      if (const JsonScalar* r = field("reason"); r && r->kind == JsonScalar::Kind::kString && !r->text.empty()) {
        entry.reason = relay::log::sanitize(r->text);
        if (const JsonScalar* st = field("status"); st && st->kind == JsonScalar::Kind::kString && !st->text.empty())
          entry.reason += " " + relay::log::sanitize(st->text);
      }
      // bounce-parse passes an unreadable Date through as written: then the entry dates from now.
      if (const JsonScalar* d = field("date"); d && d->kind == JsonScalar::Kind::kString)
        if (auto when = relay::parse_time(d->text)) entry.added = *when;
    } else {
      try {
        entry.entry = suppression_key(text);
      } catch (const relay::Failure& e) {
        throw fail(e.what());
      }
    }
    if (expire_after > 0) entry.expires = entry.added + expire_after;
    if (out.entries.size() >= kMaxEntries) throw fail("more than 1000000 entries");
    out.entries.push_back(std::move(entry));
  }
  if (in.bad()) throw relay::Failure(relay::kExitTemporary, "unable to read " + source);
  return out;
}

}  // namespace relay_policy
