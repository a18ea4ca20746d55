// SPF record syntax (RFC 7208 section 12 ABNF): terms, qualifiers, domain-specs, CIDR lengths.
// The whole record is checked before evaluation: an error anywhere is a permerror.
#include <cctype>

#include <fmt/format.h>

#include "relay/spf.hpp"
#include "spf_address.hpp"
#include "spf_macro.hpp"

namespace relay::spf {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }

// toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
bool valid_toplabel(std::string_view label) {
  if (label.empty() || !is_alnum(label.front()) || !is_alnum(label.back())) return false;
  bool alpha = false, dash = false;
  for (char c : label) {
    if (c == '-') dash = true;
    else if (is_alpha(c)) alpha = true;
    else if (!is_alnum(c)) return false;
  }
  return alpha || dash;
}

// domain-spec = macro-string domain-end; domain-end = ( "." toplabel [ "." ] ) / macro-expand
bool valid_domain_spec(std::string_view spec, std::string* error) {
  if (spec.empty()) {
    *error = "empty domain";
    return false;
  }
  if (!expand_macros(spec, nullptr, MacroUse::kDomainSpec, error)) return false;
  if (spec.back() == '}') {
    // Ends with a macro-expand unless the brace is a literal (literals never hold "%{").
    size_t open = spec.rfind("%{");
    if (open != std::string_view::npos && spec.find('}', open) == spec.size() - 1) {
      size_t percents = 0;
      for (size_t i = open; i > 0 && spec[i - 1] == '%'; --i) ++percents;
      if (percents % 2 == 0) return true;
    }
  }
  std::string_view end = spec;
  if (end.back() == '.') end.remove_suffix(1);
  size_t dot = end.rfind('.');
  if (dot == std::string_view::npos || !valid_toplabel(end.substr(dot + 1))) {
    *error = fmt::format("domain {} does not end in a valid top-level label", spec);
    return false;
  }
  return true;
}

// "/" ( "0" / %x31-39 0*2DIGIT ), at most `max`.
bool parse_cidr(std::string_view digits, int max, int* out) {
  if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0')) return false;
  int value = 0;
  for (char c : digits) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    value = value * 10 + (c - '0');
  }
  if (value > max) return false;
  *out = value;
  return true;
}

// Splits the trailing dual-cidr-length ("/24", "//64", "/24//64") off an a/mx argument.
bool split_dual_cidr(std::string_view* argument, Term* term) {
  auto trailing_number = [](std::string_view text) {
    size_t start = text.size();
    while (start > 0 && std::isdigit(static_cast<unsigned char>(text[start - 1]))) --start;
    return start;
  };
  std::string_view text = *argument;
  size_t start = trailing_number(text);
  if (start == text.size() || start == 0 || text[start - 1] != '/') return true;  // no cidr
  std::string_view number = text.substr(start);
  if (start >= 2 && text[start - 2] == '/') {  // "//N": IPv6 length, maybe after an IPv4 one
    if (!parse_cidr(number, 128, &term->cidr6)) return false;
    text = text.substr(0, start - 2);
    start = trailing_number(text);
    if (start == text.size() || start == 0 || text[start - 1] != '/') {
      *argument = text;
      return true;
    }
    number = text.substr(start);
  }
  if (!parse_cidr(number, 32, &term->cidr4)) return false;
  *argument = text.substr(0, start - 1);
  return true;
}

std::optional<Mechanism> mechanism_named(std::string_view name) {
  static constexpr std::pair<std::string_view, Mechanism> kNames[] = {
      {"all", Mechanism::kAll}, {"include", Mechanism::kInclude}, {"a", Mechanism::kA},
      {"mx", Mechanism::kMx},   {"ptr", Mechanism::kPtr},         {"ip4", Mechanism::kIp4},
      {"ip6", Mechanism::kIp6}, {"exists", Mechanism::kExists}};
  for (auto [text, mechanism] : kNames)
    if (iequals(name, text)) return mechanism;
  return std::nullopt;
}

bool parse_mechanism(std::string_view text, Term* term, std::string* error) {
  term->text = std::string(text);
  if (!text.empty() && std::string_view("+-~?").find(text[0]) != std::string_view::npos) {
    term->qualifier = static_cast<Qualifier>(text[0]);
    text.remove_prefix(1);
  }
  size_t name_end = 0;
  while (name_end < text.size() && (is_alnum(text[name_end]))) ++name_end;
  std::optional<Mechanism> mechanism = mechanism_named(text.substr(0, name_end));
  if (!mechanism) {
    *error = fmt::format("unknown mechanism {}", term->text);
    return false;
  }
  term->mechanism = *mechanism;
  std::string_view rest = text.substr(name_end);
  auto bad = [&](std::string_view why) {
    *error = fmt::format("{}: {}", term->text, why);
    return false;
  };
  switch (*mechanism) {
    case Mechanism::kAll:
      return rest.empty() || bad("all takes no argument");
    case Mechanism::kInclude:
    case Mechanism::kExists:
      if (!rest.starts_with(':')) return bad("a domain is required");
      term->domain_spec = std::string(rest.substr(1));
      return valid_domain_spec(term->domain_spec, error) || bad(*error);
    case Mechanism::kPtr:
      if (rest.empty()) return true;
      if (!rest.starts_with(':')) return bad("unexpected text after ptr");
      term->domain_spec = std::string(rest.substr(1));
      return valid_domain_spec(term->domain_spec, error) || bad(*error);
    case Mechanism::kA:
    case Mechanism::kMx:
      if (!split_dual_cidr(&rest, term)) return bad("invalid CIDR length");
      if (rest.empty()) return true;
      if (!rest.starts_with(':')) return bad("unexpected text after the mechanism name");
      term->domain_spec = std::string(rest.substr(1));
      return valid_domain_spec(term->domain_spec, error) || bad(*error);
    case Mechanism::kIp4:
    case Mechanism::kIp6: {
      if (!rest.starts_with(':')) return bad("an address is required");
      rest.remove_prefix(1);
      bool v6 = *mechanism == Mechanism::kIp6;
      size_t slash = rest.find('/');
      std::string_view network = rest.substr(0, slash);
      if (slash != std::string_view::npos &&
          !parse_cidr(rest.substr(slash + 1), v6 ? 128 : 32, v6 ? &term->cidr6 : &term->cidr4))
        return bad("invalid CIDR length");
      std::optional<Address> address = Address::parse(network, v6);
      // ip4 takes only a dotted quad; ip6 any IPv6 text, even an IPv4-mapped one.
      bool dotted_quad = network.find(':') == std::string_view::npos;
      if (!address || (v6 ? dotted_quad : !dotted_quad)) return bad("invalid address");
      term->network = std::string(network);
      return true;
    }
  }
  return bad("unknown mechanism");
}

bool is_modifier_name(std::string_view name) {
  if (name.empty() || !is_alpha(name[0])) return false;
  for (char c : name)
    if (!is_alnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

}  // namespace

bool is_spf_record(std::string_view text) {
  return text.size() >= 6 && iequals(text.substr(0, 6), "v=spf1") && (text.size() == 6 || text[6] == ' ');
}

std::optional<Record> parse_record(std::string_view text, std::string* error) {
  if (!is_spf_record(text)) {
    *error = "not an SPF version 1 record";
    return std::nullopt;
  }
  for (unsigned char c : text) {
    if (c < 0x20 || c > 0x7e) {
      *error = fmt::format("record holds the byte 0x{:02x} (only printable ASCII is allowed)", c);
      return std::nullopt;
    }
  }
  Record record;
  size_t pos = 6;
  while (pos < text.size()) {
    if (text[pos] == ' ') {
      ++pos;
      continue;
    }
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view term_text = text.substr(pos, end - pos);
    pos = end;
    size_t equals = term_text.find('=');
    std::string_view name = term_text.substr(0, equals);
    if (equals != std::string_view::npos && (equals == 0 || is_modifier_name(name))) {
      if (equals == 0) {
        *error = fmt::format("modifier without a name: {}", term_text);
        return std::nullopt;
      }
      std::string value(term_text.substr(equals + 1));
      bool redirect = iequals(name, "redirect"), exp = iequals(name, "exp");
      if (redirect || exp) {
        std::optional<std::string>& slot = redirect ? record.redirect : record.exp;
        if (slot) {
          *error = fmt::format("{}= given twice", name);
          return std::nullopt;
        }
        if (!valid_domain_spec(value, error)) {
          *error = fmt::format("{}: {}", term_text, *error);
          return std::nullopt;
        }
        slot = value;
      } else {
        if (!expand_macros(value, nullptr, MacroUse::kDomainSpec, error)) {
          *error = fmt::format("{}: {}", term_text, *error);
          return std::nullopt;
        }
        record.unknown_modifiers.emplace_back(term_text);
      }
      continue;
    }
    Term term;
    if (!parse_mechanism(term_text, &term, error)) return std::nullopt;
    record.terms.push_back(std::move(term));
  }
  return record;
}

std::string_view to_string(Mechanism mechanism) {
  switch (mechanism) {
    case Mechanism::kAll: return "all";
    case Mechanism::kInclude: return "include";
    case Mechanism::kA: return "a";
    case Mechanism::kMx: return "mx";
    case Mechanism::kPtr: return "ptr";
    case Mechanism::kIp4: return "ip4";
    case Mechanism::kIp6: return "ip6";
    case Mechanism::kExists: return "exists";
  }
  return "unknown";
}

}  // namespace relay::spf
