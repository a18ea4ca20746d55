#include "relay/clock.hpp"

#include <sys/time.h>

#include <charconv>
#include <cstdlib>
#include <ctime>

#include "relay/exit_codes.hpp"

namespace relay {

Clock Clock::from_option(const std::string& now_option) {
  std::string text = now_option;
  if (text.empty()) {
    const char* env = std::getenv("RELAY_NOW");
    if (env == nullptr || *env == '\0') return Clock();
    text = env;
  }
  auto t = parse_time(text);
  if (!t) throw Failure(kExitUsage, "unable to parse time '" + text + "': expected epoch seconds or YYYY-MM-DDTHH:MM:SSZ");
  return Clock(*t);
}

Timestamp Clock::now() const {
  if (fixed_) return {*fixed_, 0};
  timeval tv{};
  gettimeofday(&tv, nullptr);
  return {tv.tv_sec, static_cast<int32_t>(tv.tv_usec)};
}

std::optional<int64_t> parse_time(std::string_view text) {
  if (!text.empty() && text[0] == '@') text.remove_prefix(1);
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) return value;
  std::tm tm{};
  std::string copy(text);
  const char* rest = strptime(copy.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr || (*rest != '\0' && std::string_view(rest) != "Z")) return std::nullopt;
  return static_cast<int64_t>(timegm(&tm));
}

namespace {

std::string format_utc(int64_t seconds, const char* format) {
  time_t t = seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  strftime(buf, sizeof buf, format, &tm);
  return buf;
}

}  // namespace

std::string rfc5322_date(int64_t seconds) { return format_utc(seconds, "%a, %d %b %Y %H:%M:%S +0000"); }

std::string iso_time(int64_t seconds) { return format_utc(seconds, "%Y-%m-%dT%H:%M:%SZ"); }

std::optional<int64_t> parse_duration(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || value < 0) return std::nullopt;
  std::string_view unit(end, text.data() + text.size() - end);
  if (unit.empty() || unit == "s") return value;
  if (unit == "m") return value * 60;
  if (unit == "h") return value * 3600;
  if (unit == "d") return value * 86400;
  if (unit == "w") return value * 7 * 86400;
  return std::nullopt;
}

}  // namespace relay
