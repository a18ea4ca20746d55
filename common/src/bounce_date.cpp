// RFC 5322 date-times (section 3.3, with the obsolete zone names of 4.3) as epoch seconds.
#include <cctype>
#include <string>

#include "relay/bounce.hpp"

namespace relay::bounce {
namespace {

class Words {
 public:
  explicit Words(std::string_view text) : text_(text) {}
  // The next run of letters, digits, or one other character; whitespace and commas skipped.
  std::string_view next() {
    while (pos_ < text_.size() && (std::isspace(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == ','))
      ++pos_;
    if (pos_ >= text_.size()) return {};
    size_t start = pos_;
    auto kind = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) ? 1 : std::isalpha(static_cast<unsigned char>(c)) ? 2 : 3; };
    int k = kind(text_[pos_]);
    if (k == 3) return text_.substr(pos_++, 1);
    while (pos_ < text_.size() && kind(text_[pos_]) == k) ++pos_;
    return text_.substr(start, pos_ - start);
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

bool number(std::string_view word, int& out, size_t max_digits) {
  if (word.empty() || word.size() > max_digits) return false;
  out = 0;
  for (char c : word) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

int month_of(std::string_view word) {
  static constexpr std::string_view kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                 "jul", "aug", "sep", "oct", "nov", "dec"};
  if (word.size() < 3) return 0;
  std::string lower = to_lower(word.substr(0, 3));
  for (int i = 0; i < 12; ++i)
    if (lower == kMonths[i]) return i + 1;
  return 0;
}

// Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// Zone offset in seconds east of UTC; false when the word is no zone.
bool zone_offset(Words& words, std::string_view word, int& offset) {
  if (word == "+" || word == "-") {
    int hhmm = 0;
    std::string_view digits = words.next();
    if (digits.size() != 4 || !number(digits, hhmm, 4)) return false;
    offset = (hhmm / 100 * 3600 + hhmm % 100 * 60) * (word == "-" ? -1 : 1);
    return true;
  }
  static const std::pair<std::string_view, int> kNames[] = {
      {"ut", 0}, {"utc", 0}, {"gmt", 0}, {"z", 0}, {"est", -5}, {"edt", -4}, {"cst", -6},
      {"cdt", -5}, {"mst", -7}, {"mdt", -6}, {"pst", -8}, {"pdt", -7}};
  std::string lower = to_lower(word);
  for (const auto& [name, hours] : kNames)
    if (lower == name) {
      offset = hours * 3600;
      return true;
    }
  offset = 0;  // RFC 5322 4.3: an unknown zone is read as +0000
  return word.empty() || std::isalpha(static_cast<unsigned char>(word[0]));
}

}  // namespace

std::optional<int64_t> parse_rfc5322_date(std::string_view text) {
  Words words(text);
  std::string_view word = words.next();
  if (!word.empty() && std::isalpha(static_cast<unsigned char>(word[0]))) word = words.next();  // day of week
  int day = 0, month = 0, year = 0, hour = 0, minute = 0, second = 0;
  if (!number(word, day, 2) || day < 1 || day > 31) return std::nullopt;
  month = month_of(words.next());
  if (month == 0 || !number(words.next(), year, 4)) return std::nullopt;
  if (year < 50) year += 2000;
  else if (year < 1000) year += 1900;
  if (!number(words.next(), hour, 2) || words.next() != ":" || !number(words.next(), minute, 2)) return std::nullopt;
  word = words.next();
  if (word == ":") {
    if (!number(words.next(), second, 2)) return std::nullopt;
    word = words.next();
  }
  if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
  int offset = 0;
  if (!zone_offset(words, word, offset)) return std::nullopt;
  return days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
}

}  // namespace relay::bounce
