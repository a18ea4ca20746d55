// DMARC record syntax (RFC 7489 6.3, 6.4; np= from DMARCbis): tag=value pairs after "v=DMARC1".
#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include <fmt/format.h>

#include "relay/dmarc.hpp"
#include "relay/headers.hpp"

namespace relay::dmarc {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::optional<Policy> policy_named(std::string_view value) {
  std::string name = to_lower(value);
  if (name == "none") return Policy::kNone;
  if (name == "quarantine") return Policy::kQuarantine;
  if (name == "reject") return Policy::kReject;
  return std::nullopt;
}

// DMARC-URI = URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ]; the URI needs a scheme, and a
// mailto: URI an address with a domain.
bool valid_report_uri(std::string_view uri) {
  size_t bang = uri.rfind('!');
  if (bang != std::string_view::npos) {
    std::string_view size = uri.substr(bang + 1);
    if (!size.empty() && std::string_view("kmgtKMGT").find(size.back()) != std::string_view::npos) size.remove_suffix(1);
    if (size.empty() || !std::all_of(size.begin(), size.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      return false;
    uri = uri.substr(0, bang);
  }
  size_t colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0 || !std::isalpha(static_cast<unsigned char>(uri[0]))) return false;
  if (to_lower(uri.substr(0, colon)) == "mailto") {
    std::string_view address = uri.substr(colon + 1);
    size_t at = address.rfind('@');
    return at != std::string_view::npos && at > 0 && at + 1 < address.size() &&
           address.find_first_of(" ,;") == std::string_view::npos;
  }
  return uri.size() > colon + 1;
}

std::optional<std::vector<std::string>> parse_uris(std::string_view value, std::string* bad) {
  std::vector<std::string> uris;
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view uri = trim(value.substr(start, comma - start));
    if (!valid_report_uri(uri)) {
      *bad = std::string(uri);
      return std::nullopt;
    }
    uris.emplace_back(uri);
    start = comma + 1;
  }
  return uris;
}

}  // namespace

std::string_view to_string(Policy policy) {
  switch (policy) {
    case Policy::kNone: return "none";
    case Policy::kQuarantine: return "quarantine";
    case Policy::kReject: return "reject";
  }
  return "none";
}

bool is_dmarc_record(std::string_view text) {
  text = trim(text);
  if (!text.starts_with("v")) return false;
  text = trim(text.substr(1));
  if (!text.starts_with('=')) return false;
  text = trim(text.substr(1));
  return text.starts_with("DMARC1") && (text.size() == 6 || text[6] == ';' || text[6] == ' ' || text[6] == '\t');
}

std::optional<Record> parse_record(std::string_view text, std::string* error) {
  auto fail = [&](std::string reason) -> std::optional<Record> {
    *error = std::move(reason);
    return std::nullopt;
  };
  if (!is_dmarc_record(text)) return fail("does not start with v=DMARC1");
  for (unsigned char c : text)
    if (c < 0x20 || c > 0x7e) return fail(fmt::format("holds the byte 0x{:02x} (only printable ASCII is allowed)", c));
  Record record;
  std::set<std::string> seen;
  bool has_p = false, bad_p = false;
  std::string bad_p_reason;
  size_t start = 0;
  bool first = true;
  while (start <= text.size()) {
    size_t semicolon = text.find(';', start);
    if (semicolon == std::string_view::npos) semicolon = text.size();
    std::string_view part = trim(text.substr(start, semicolon - start));
    start = semicolon + 1;
    if (part.empty()) {
      if (first) return fail("empty first tag");
      continue;
    }
    size_t equals = part.find('=');
    if (equals == std::string_view::npos) return fail(fmt::format("\"{}\" is not tag=value", part));
    std::string tag = to_lower(trim(part.substr(0, equals)));
    std::string_view value = trim(part.substr(equals + 1));
    if (tag.empty() || !std::all_of(tag.begin(), tag.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }))
      return fail(fmt::format("\"{}\" is not a valid tag name", part.substr(0, equals)));
    if (!seen.insert(tag).second) return fail(fmt::format("{}= appears twice", tag));
    if (first) {
      first = false;
      continue;  // v=DMARC1, checked above
    }
    if (tag == "v") return fail("v= must be the first tag only");
    if (tag == "p") {
      has_p = true;
      if (auto policy = policy_named(value)) {
        record.p = *policy;
      } else {
        bad_p = true;
        bad_p_reason = fmt::format("p={}: must be none, quarantine or reject", value);
      }
    } else if (tag == "sp" || tag == "np") {
      auto policy = policy_named(value);
      if (!policy) return fail(fmt::format("{}={}: must be none, quarantine or reject", tag, value));
      (tag == "sp" ? record.sp : record.np) = *policy;
    } else if (tag == "adkim" || tag == "aspf") {
      std::string mode = to_lower(value);
      if (mode != "r" && mode != "s") return fail(fmt::format("{}={}: must be r (relaxed) or s (strict)", tag, value));
      (tag == "adkim" ? record.adkim : record.aspf) = mode == "s" ? Alignment::kStrict : Alignment::kRelaxed;
    } else if (tag == "pct") {
      int pct = -1;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), pct);
      if (ec != std::errc() || end != value.data() + value.size() || pct < 0 || pct > 100)
        return fail(fmt::format("pct={}: must be an integer from 0 to 100", value));
      record.pct = pct;
    } else if (tag == "rua" || tag == "ruf") {
      std::string bad;
      auto uris = parse_uris(value, &bad);
      if (!uris) return fail(fmt::format("{}=: \"{}\" is not a valid report URI (mailto:address[!size])", tag, bad));
      (tag == "rua" ? record.rua : record.ruf) = std::move(*uris);
    } else if (tag == "fo") {
      std::string options(value);
      for (size_t i = 0; i < options.size(); i += 2) {
        if (std::string_view("01ds").find(options[i]) == std::string_view::npos ||
            (i + 1 < options.size() && options[i + 1] != ':'))
          return fail(fmt::format("fo={}: must be 0, 1, d or s, separated by colons", value));
      }
      record.fo = options;
    } else if (tag == "rf") {
      if (to_lower(value) != "afrf") return fail(fmt::format("rf={}: only afrf is defined", value));
    } else if (tag == "ri") {
      unsigned long interval = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), interval);
      if (ec != std::errc() || end != value.data() + value.size() || interval > 0xffffffffUL)
        return fail(fmt::format("ri={}: must be a number of seconds", value));
    } else {
      record.warnings.push_back(fmt::format("unknown tag {}= ignored", tag));
    }
  }
  // RFC 7489 6.6.3 step 6: without a valid p=, a record with a valid rua= counts as p=none.
  if (!has_p || bad_p) {
    if (record.rua.empty()) return fail(has_p ? bad_p_reason : "p= is missing");
    record.p = Policy::kNone;
    record.warnings.push_back((has_p ? bad_p_reason : "p= is missing") + "; treated as p=none because rua= is valid");
  }
  return record;
}

}  // namespace relay::dmarc
