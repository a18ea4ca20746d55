#include "data_reader.hpp"

#include <string>

namespace smtp_listen {

std::string_view describe(DataFault fault) {
  switch (fault) {
    case DataFault::kNone: return "ok";
    case DataFault::kBareCr: return "bare CR in message data";
    case DataFault::kBareLf: return "bare LF in message data";
    case DataFault::kNul: return "NUL byte in message data";
    case DataFault::kLineTooLong: return "message line too long";
  }
  return "bad message data";
}

LineFilter::LineFilter(size_t max_line, BareNewline mode, LineOutput output)
    : max_line_(max_line), mode_(mode), output_(std::move(output)) {}

void LineFilter::fail(DataFault fault) {
  if (fault_ == DataFault::kNone) fault_ = fault;
}

bool LineFilter::take(std::string_view raw, bool allow_unstuff, bool* is_end, bool prev_crlf) {
  bool crlf = !raw.empty() && raw.back() == '\r';
  std::string_view content = crlf ? raw.substr(0, raw.size() - 1) : raw;
  if (is_end) *is_end = prev_crlf && crlf && content == ".";
  if (is_end && *is_end) return crlf;
  if (!crlf && mode_ == BareNewline::kReject) fail(DataFault::kBareLf);
  if (content.find('\r') != std::string_view::npos) fail(DataFault::kBareCr);
  if (content.find('\0') != std::string_view::npos) fail(DataFault::kNul);
  if (content.size() + 2 > max_line_) fail(DataFault::kLineTooLong);
  // A lone "." that does not end the data (after a bare LF, or ended by one) stays as it is.
  if (allow_unstuff && content.size() > 1 && content.front() == '.') content.remove_prefix(1);
  if (fault_ == DataFault::kNone) output_(content);
  return crlf;
}

DataReader::DataReader(size_t max_line, BareNewline mode, LineOutput output)
    : filter_(max_line, mode, std::move(output)) {}

size_t DataReader::consume(std::string_view input) {
  size_t used = 0;
  while (!done_ && used < input.size()) {
    std::string_view rest = input.substr(used);
    size_t lf = rest.find('\n');
    if (lf == std::string_view::npos) {
      // A line may wait for its end only while it still fits the limit.
      if (skipping_ || rest.size() > filter_.max_line()) {
        filter_.fail(DataFault::kLineTooLong);
        skipping_ = true;
        // Keep a trailing CR: with the LF of the next read it makes the line end a CRLF.
        size_t keep = rest.back() == '\r' ? 1 : 0;
        used += rest.size() - keep;
        if (keep && rest.size() == 1) break;
        continue;
      }
      break;
    }
    std::string_view raw = rest.substr(0, lf);
    used += lf + 1;
    if (skipping_) {
      skipping_ = false;
      prev_crlf_ = !raw.empty() && raw.back() == '\r';
      continue;
    }
    bool end = false;
    prev_crlf_ = filter_.take(raw, true, &end, prev_crlf_);
    done_ = end;
  }
  return used;
}

BdatReader::BdatReader(size_t max_line, BareNewline mode, LineOutput output)
    : filter_(max_line, mode, std::move(output)) {}

void BdatReader::consume(std::string_view bytes) {
  while (!bytes.empty()) {
    size_t lf = bytes.find('\n');
    if (lf == std::string_view::npos) {
      if (!skipping_) partial_.append(bytes);
      if (partial_.size() > filter_.max_line()) {
        filter_.fail(DataFault::kLineTooLong);
        skipping_ = true;
        partial_.clear();
      }
      return;
    }
    if (!skipping_) {
      partial_.append(bytes.substr(0, lf));
      filter_.take(partial_, false, nullptr, true);
    }
    skipping_ = false;
    partial_.clear();
    bytes.remove_prefix(lf + 1);
  }
}

void BdatReader::finish() {
  if (!partial_.empty() && !skipping_) filter_.take(partial_ + "\r", false, nullptr, true);
  partial_.clear();
}

}  // namespace smtp_listen
