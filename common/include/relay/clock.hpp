#pragma once
// The injectable clock: every program that looks at the time asks this, so tests and dry runs
// move time with --now or RELAY_NOW instead of sleeping.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relay {

// Seconds since the epoch, with microseconds for ids and delays.
struct Timestamp {
  int64_t seconds = 0;
  int32_t micros = 0;
};

class Clock {
 public:
  // A fixed time (from --now), or the system clock when empty.
  explicit Clock(std::optional<int64_t> fixed = std::nullopt) : fixed_(fixed) {}
  // --now value or, when absent, the RELAY_NOW environment variable.
  static Clock from_option(const std::string& now_option);

  Timestamp now() const;
  int64_t seconds() const { return now().seconds; }
  bool fixed() const { return fixed_.has_value(); }

 private:
  std::optional<int64_t> fixed_;
};

// Parses "@1764395000", "1764395000" or "2026-11-29T05:42:00Z"; nullopt when invalid.
std::optional<int64_t> parse_time(std::string_view text);
// RFC 5322 date-time in UTC: "Sun, 29 Nov 2026 05:42:00 +0000".
std::string rfc5322_date(int64_t seconds);
// ISO 8601 UTC: "2026-11-29T05:42:00Z".
std::string iso_time(int64_t seconds);
// Durations as operators write them: "300", "300s", "5m", "4h", "5d", "1w"; nullopt if invalid.
std::optional<int64_t> parse_duration(std::string_view text);

}  // namespace relay
