// Parser of relay-policy.conf(5): sections, settings and their values, each error with its line.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>

#include "relay/clock.hpp"
#include "relay/exit_codes.hpp"
#include "relay/policy_rules.hpp"

namespace relay::policy {
namespace {

constexpr size_t kMaxLine = 4096;
constexpr size_t kMaxFile = 16u << 20;
constexpr size_t kMaxSections = 100000;
constexpr int64_t kMaxWindow = 366 * 86400;

// What a section sets; unset values come from [defaults], then from the built-in values.
struct Settings {
  std::optional<std::vector<DomainPattern>> sender_domains, from_domains;
  std::optional<Align> align;
  std::optional<uint64_t> max_size, max_recipients;
  std::optional<bool> hold;
  std::array<std::array<std::optional<std::vector<Rate>>, kUnits>, kScopes> rates;
};

struct RawSection {
  std::string name;
  Settings settings;
};

class Parser {
 public:
  Parser(std::string_view file) : file_(file) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw Failure(kExitConfig, "unable to read policy file: " + std::string(file_) + ":" +
                                   std::to_string(line_) + ": " + what);
  }
  void set_line(size_t line) { line_ = line; }

  std::vector<std::string_view> words(std::string_view value) const {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < value.size()) {
      while (i < value.size() && (value[i] == ' ' || value[i] == '\t' || value[i] == ',')) ++i;
      size_t start = i;
      while (i < value.size() && value[i] != ' ' && value[i] != '\t' && value[i] != ',') ++i;
      if (i > start) out.push_back(value.substr(start, i - start));
    }
    if (out.empty()) fail("missing value");
    return out;
  }

  std::string_view single(std::string_view value) const {
    auto list = words(value);
    if (list.size() != 1) fail("expected one value, got " + std::to_string(list.size()));
    return list[0];
  }

  static bool is_none(const std::vector<std::string_view>& list) {
    return list.size() == 1 && list[0] == "none";
  }

  std::vector<DomainPattern> domains(std::string_view value) const {
    auto list = words(value);
    std::vector<DomainPattern> out;
    if (is_none(list)) return out;
    for (auto word : list) {
      if (word == "none") fail("\"none\" cannot be combined with domains");
      DomainPattern pattern;
      if (word == "*") {
        out.push_back(pattern);
        continue;
      }
      if (word.starts_with("*.")) {
        pattern.subdomains = true;
        word.remove_prefix(2);
      }
      if (!valid_domain_text(word)) fail("invalid domain \"" + std::string(word) + "\"");
      for (char c : word) pattern.domain += (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
      out.push_back(std::move(pattern));
    }
    return out;
  }

  static bool valid_domain_text(std::string_view word) {
    if (word.empty() || word.size() > 253 || word.front() == '.' || word.back() == '.') return false;
    if (word.find("..") != std::string_view::npos) return false;
    for (unsigned char c : word)
      if (!(std::isalnum(c) || c == '-' || c == '.' || c >= 0x80)) return false;
    return true;
  }

  uint64_t number(std::string_view text, const char* what) const {
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size())
      fail(std::string("invalid ") + what + " \"" + std::string(text) + "\"");
    return value;
  }

  uint64_t size(std::string_view value) const {
    auto text = single(value);
    if (text == "none") return 0;
    uint64_t scale = 1;
    char last = text.empty() ? 0 : text.back();
    if (last == 'K' || last == 'k') scale = 1ull << 10;
    if (last == 'M' || last == 'm') scale = 1ull << 20;
    if (last == 'G' || last == 'g') scale = 1ull << 30;
    if (scale != 1) text.remove_suffix(1);
    uint64_t n = number(text, "size");
    if (n == 0 || n > (1ull << 40) / scale) fail("size out of range (1 byte to 1T)");
    return n * scale;
  }

  uint64_t count(std::string_view value) const {
    auto text = single(value);
    if (text == "none") return 0;
    uint64_t n = number(text, "count");
    if (n == 0 || n > 1000000) fail("count out of range (1 to 1000000)");
    return n;
  }

  bool yes_no(std::string_view value) const {
    auto text = single(value);
    if (text == "yes") return true;
    if (text == "no") return false;
    fail("expected yes or no, got \"" + std::string(text) + "\"");
  }

  Align align(std::string_view value) const {
    auto text = single(value);
    if (text == "none") return Align::kNone;
    if (text == "relaxed") return Align::kRelaxed;
    if (text == "strict") return Align::kStrict;
    fail("expected none, relaxed or strict, got \"" + std::string(text) + "\"");
  }

  std::vector<Rate> rates(std::string_view value) const {
    auto list = words(value);
    std::vector<Rate> out;
    if (is_none(list)) return out;
    for (auto word : list) {
      size_t slash = word.find('/');
      if (slash == std::string_view::npos) fail("invalid rate \"" + std::string(word) + "\" (want COUNT/WINDOW)");
      Rate rate;
      rate.text = std::string(word);
      uint64_t n = number(word.substr(0, slash), "rate count");
      auto window_text = word.substr(slash + 1);
      std::optional<int64_t> window;
      if (window_text == "second") window = 1;
      else if (window_text == "minute") window = 60;
      else if (window_text == "hour") window = 3600;
      else if (window_text == "day") window = 86400;
      else if (window_text == "week") window = 7 * 86400;
      else window = parse_duration(window_text);
      if (!window || *window <= 0 || *window > kMaxWindow)
        fail("invalid rate window \"" + std::string(window_text) + "\" (second, minute, hour, day, week or a duration up to 366d)");
      if (n == 0 || n > 100000000) fail("rate count out of range (1 to 100000000)");
      rate.count = static_cast<int64_t>(n);
      rate.window = *window;
      out.push_back(std::move(rate));
    }
    return out;
  }

  void setting(Settings& s, std::string_view name, std::string_view value) {
    auto once = [&](auto& slot, auto parsed) {
      if (slot) fail("\"" + std::string(name) + "\" is set twice in this section");
      slot = std::move(parsed);
    };
    if (name == "sender-domains") return once(s.sender_domains, domains(value));
    if (name == "from-domains") return once(s.from_domains, domains(value));
    if (name == "align") return once(s.align, align(value));
    if (name == "max-size") return once(s.max_size, size(value));
    if (name == "max-recipients") return once(s.max_recipients, count(value));
    if (name == "hold") return once(s.hold, yes_no(value));
    for (size_t scope = 0; scope < kScopes; ++scope)
      for (size_t unit = 0; unit < kUnits; ++unit)
        if (name == rate_setting_name(static_cast<Scope>(scope), static_cast<Unit>(unit)))
          return once(s.rates[scope][unit], rates(value));
    fail("unknown setting \"" + std::string(name) + "\"");
  }

 private:
  std::string_view file_;
  size_t line_ = 0;
};

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

Section merge(const std::string& name, const Settings& own, const Settings& defaults) {
  Section out;
  out.name = name;
  auto pick = [](const auto& mine, const auto& theirs, auto builtin) {
    return mine ? *mine : theirs ? *theirs : builtin;
  };
  out.sender_domains = pick(own.sender_domains, defaults.sender_domains, std::vector<DomainPattern>{});
  // from-domains falls back to this section's sender-domains before the defaults' from-domains
  // only when this section sets sender-domains itself: a user's own domains are its From domains.
  if (own.from_domains) out.from_domains = *own.from_domains;
  else if (own.sender_domains) out.from_domains = *own.sender_domains;
  else out.from_domains = pick(defaults.from_domains, defaults.sender_domains, std::vector<DomainPattern>{});
  out.align = pick(own.align, defaults.align, Align::kRelaxed);
  out.max_size = pick(own.max_size, defaults.max_size, uint64_t{0});
  out.max_recipients = pick(own.max_recipients, defaults.max_recipients, uint64_t{0});
  out.hold = pick(own.hold, defaults.hold, false);
  for (size_t scope = 0; scope < kScopes; ++scope)
    for (size_t unit = 0; unit < kUnits; ++unit)
      out.rates[scope][unit] = pick(own.rates[scope][unit], defaults.rates[scope][unit], std::vector<Rate>{});
  return out;
}

}  // namespace

std::string rate_setting_name(Scope scope, Unit unit) {
  static const char* const kScopeNames[] = {"user", "client", "sender-domain", "recipient-domain"};
  return std::string(kScopeNames[static_cast<size_t>(scope)]) +
         (unit == Unit::kMessages ? "-messages" : "-recipients");
}

std::string_view to_string(Align align) {
  switch (align) {
    case Align::kNone: return "none";
    case Align::kRelaxed: return "relaxed";
    case Align::kStrict: return "strict";
  }
  return "none";
}

Rules parse_rules(std::string_view text, std::string_view file_name) {
  Parser parser(file_name);
  Rules rules;
  std::optional<Settings> defaults;
  std::vector<RawSection> users;
  std::vector<std::pair<IpNetwork, RawSection>> networks;
  std::unordered_map<std::string, size_t> seen;  // section name -> line
  Settings* current = nullptr;
  bool file_settings_done = false;
  bool store_set = false, error_set = false, version_set = false;

  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    parser.set_line(++line_no);
    if (line.size() > kMaxLine) parser.fail("line longer than 4096 bytes");
    if (line.find('\0') != std::string_view::npos) parser.fail("NUL byte");
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;

    if (line.front() == '[') {
      if (line.back() != ']') parser.fail("section header without closing ]");
      std::string_view inner = trim(line.substr(1, line.size() - 2));
      std::string name;
      if (inner == "defaults") {
        name = "defaults";
        defaults.emplace();
        current = &*defaults;
      } else if (inner.starts_with("user ") || inner.starts_with("user\t")) {
        std::string_view user = trim(inner.substr(5));
        if (user.empty() || user.find_first_of(" \t") != std::string_view::npos)
          parser.fail("a user section names one user: [user NAME]");
        name = "user " + std::string(user);
        users.push_back({name, {}});
        current = &users.back().settings;
      } else if (inner.starts_with("network ") || inner.starts_with("network\t")) {
        std::string_view cidr = trim(inner.substr(8));
        std::string why;
        auto net = parse_network(cidr, &why);
        if (!net) parser.fail(why + " in network \"" + std::string(cidr) + "\"");
        name = "network " + std::string(cidr);
        networks.push_back({*net, RawSection{name, {}}});
        current = &networks.back().second.settings;
      } else {
        parser.fail("unknown section [" + std::string(inner) + "] (want [defaults], [user NAME] or [network CIDR])");
      }
      if (auto [it, fresh] = seen.emplace(name, line_no); !fresh)
        parser.fail("section [" + name + "] repeats the one on line " + std::to_string(it->second));
      if (seen.size() > kMaxSections) parser.fail("more than 100000 sections");
      file_settings_done = true;
      continue;
    }

    size_t eq = line.find('=');
    if (eq == std::string_view::npos) parser.fail("expected \"name = value\" or a [section]");
    std::string_view name = trim(line.substr(0, eq));
    std::string_view value = trim(line.substr(eq + 1));
    if (!file_settings_done) {
      if (name == "version") {
        if (version_set) parser.fail("\"version\" is set twice");
        version_set = true;
        if (parser.single(value) != "1") parser.fail("unsupported version \"" + std::string(value) + "\" (this program reads version 1)");
      } else if (name == "store") {
        if (store_set) parser.fail("\"store\" is set twice");
        store_set = true;
        rules.store = std::string(parser.single(value));
      } else if (name == "on-store-error") {
        if (error_set) parser.fail("\"on-store-error\" is set twice");
        error_set = true;
        auto word = parser.single(value);
        if (word != "defer" && word != "accept") parser.fail("on-store-error is defer or accept, not \"" + std::string(word) + "\"");
        rules.fail_open = word == "accept";
      } else {
        parser.fail("unknown file setting \"" + std::string(name) + "\" (rules belong in a [section])");
      }
      continue;
    }
    parser.setting(*current, name, value);
  }

  Settings none;
  const Settings& base = defaults ? *defaults : none;
  rules.defaults = merge("defaults", base, none);
  for (auto& raw : users) {
    std::string user = raw.name.substr(5);
    rules.users.emplace(user, merge(raw.name, raw.settings, base));
  }
  for (auto& [net, raw] : networks) rules.networks.push_back({net, merge(raw.name, raw.settings, base)});
  std::stable_sort(rules.networks.begin(), rules.networks.end(),
                   [](const auto& a, const auto& b) { return a.first.length > b.first.length; });
  return rules;
}

Rules load_rules(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Failure(kExitConfig, "unable to open policy file " + path + ": " + std::strerror(errno));
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      throw Failure(kExitConfig, "unable to read policy file " + path + ": " + std::strerror(err));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxFile) {
      ::close(fd);
      throw Failure(kExitConfig, "unable to read policy file " + path + ": larger than 16 MiB");
    }
  }
  ::close(fd);
  return parse_rules(text, path);
}

const Section& Rules::resolve(std::string_view user, std::string_view client_ip) const {
  if (!user.empty()) {
    auto it = users.find(std::string(user));
    if (it != users.end()) return it->second;
  }
  if (auto address = networks.empty() ? std::nullopt : parse_ip(client_ip))
    for (const auto& [net, section] : networks)
      if (net.contains(*address)) return section;
  return defaults;
}

}  // namespace relay::policy
