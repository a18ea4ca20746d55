#include "output.hpp"

#include <unistd.h>

#include <algorithm>

#include "relay/address.hpp"
#include "relay/cli.hpp"
#include "relay/json.hpp"
#include "relay/log.hpp"

namespace bounce_parse {
namespace {

// Characters, not bytes, so UTF-8 names line up (sanitize() left only valid UTF-8).
size_t display_width(const std::string& text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// relay-policy refuses a whole input for one line it cannot read: only mailboxes go there.
bool suppressible(const std::string& address) {
  relay::AddressResult parsed = relay::parse_mailbox(address, true);
  return parsed.ok() && parsed.mailbox && !parsed.mailbox->literal;
}

}  // namespace

std::string json_line(const std::string& source, const relay::bounce::Report& report, const relay::bounce::Recipient& r) {
  relay::JsonObject o;
  o.add("recipient", r.address)
      .add("original_recipient", r.original_recipient)
      .add("action", r.action)
      .add("status", r.status);
  if (r.smtp_code != 0)
    o.add("smtp_code", r.smtp_code);
  else
    o.add_null("smtp_code");
  o.add("diagnostic", r.diagnostic)
      .add("remote_mta", r.remote_mta)
      .add("reporting_mta", report.reporting_mta)
      .add("reason", relay::bounce::to_string(r.reason))
      .add("hard", r.hard)
      .add("message_id", report.message_id)
      .add("envelope_sender", report.envelope_sender)
      .add("date", report.date)
      .add("format", report.format)
      .add("source", source);
  return o.str() + "\n";
}

void Output::add(const std::string& source, const relay::bounce::Report& report) {
  for (const relay::bounce::Recipient& r : report.recipients) {
    if (style_ == Style::kSuppress && !r.hard) continue;
    if (style_ == Style::kSuppress && !suppressible(r.address)) {
      relay::log::warning("not suppressing \"" + relay::log::sanitize(r.address) + "\" from " +
                          relay::log::sanitize(source) + ": not a mailbox");
      continue;
    }
    if (style_ != Style::kTable) {
      buffer_ += json_line(source, report, r);
      if (buffer_.size() >= kFlushAt) flush();
      continue;
    }
    rows_.push_back({relay::log::sanitize(r.address), r.action, r.status.empty() ? "-" : r.status,
                     std::string(relay::bounce::to_string(r.reason)), r.hard ? "hard" : "soft",
                     relay::log::sanitize(source), relay::log::sanitize(r.diagnostic)});
  }
}

void Output::flush() {
  relay::write_all(STDOUT_FILENO, buffer_, "standard output");
  buffer_.clear();
}

void Output::finish() {
  flush();
  if (style_ != Style::kTable || rows_.empty()) return;
  rows_.insert(rows_.begin(), {"RECIPIENT", "ACTION", "STATUS", "REASON", "TYPE", "SOURCE", "DIAGNOSTIC"});
  std::vector<size_t> widths(rows_.front().size(), 0);
  for (const auto& row : rows_)
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], display_width(row[i]));
  std::string text;
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - display_width(row[i]) + 2, ' ');
    }
    text += line + "\n";
  }
  relay::write_all(STDOUT_FILENO, text, "standard output");
}

}  // namespace bounce_parse
