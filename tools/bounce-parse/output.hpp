#pragma once
// The results: one JSON line per recipient (--json, --suppress) or an aligned table for people.
#include <string>
#include <vector>

#include "relay/bounce.hpp"

namespace bounce_parse {

enum class Style { kTable, kJson, kSuppress };

class Output {
 public:
  explicit Output(Style style) : style_(style) {}
  // JSON styles print at once; the table is held until finish() knows the column widths.
  void add(const std::string& source, const relay::bounce::Report& report);
  void finish();  // writes everything still held; results are on stdout when it returns

 private:
  static constexpr size_t kFlushAt = 64 * 1024;
  void flush();
  Style style_;
  std::string buffer_;
  std::vector<std::vector<std::string>> rows_;
};

std::string json_line(const std::string& source, const relay::bounce::Report& report, const relay::bounce::Recipient& r);

}  // namespace bounce_parse
