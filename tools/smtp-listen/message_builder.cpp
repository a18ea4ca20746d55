#include "message_builder.hpp"

#include <algorithm>
#include <cctype>

namespace smtp_listen {
namespace {

constexpr size_t kOutputBatch = 32 << 10;
constexpr size_t kMaxFromValue = 4096;

// "Name:" with a name of printable characters other than ':' (RFC 5322 2.2).
bool field_name_of(std::string_view line, std::string_view* name) {
  size_t colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  for (size_t i = 0; i < colon; ++i) {
    unsigned char c = line[i];
    if (c < 33 || c > 126) return false;
  }
  *name = line.substr(0, colon);
  return true;
}

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

}  // namespace

MessageBuilder::MessageBuilder(MessageOptions options, Output output)
    : options_(std::move(options)), output_(std::move(output)) {
  pending_ = options_.trace;
}

void MessageBuilder::end_header() {
  in_header_ = false;
  if (!options_.add_missing) return;
  if (!has_date_) pending_ += "Date: " + options_.date + "\r\n";
  if (!has_message_id_) pending_ += "Message-ID: " + options_.message_id + "\r\n";
}

void MessageBuilder::line(std::string_view content) {
  size_ += content.size() + 2;
  if (too_big_) return;
  if (options_.max_size && size_ > options_.max_size) {
    too_big_ = true;
    pending_.clear();
    return;
  }
  if (in_header_) {
    std::string_view name;
    bool continuation = seen_field_ && !content.empty() && (content[0] == ' ' || content[0] == '\t');
    if (continuation) {
      if (in_from_ && from_value_.size() + content.size() <= kMaxFromValue) from_value_.append(content);
    } else {
      in_from_ = false;
      if (field_name_of(content, &name)) {
        seen_field_ = true;
        has_date_ = has_date_ || same_name(name, "Date");
        has_message_id_ = has_message_id_ || same_name(name, "Message-ID");
        if (same_name(name, "From") && from_value_.empty()) {
          in_from_ = true;
          from_value_ = std::string(content.substr(std::min(content.size(), name.size() + 1), kMaxFromValue));
        }
      } else {
        end_header();  // the empty line, or body text without one
      }
    }
  }
  pending_.append(content);
  pending_.append("\r\n");
  if (pending_.size() >= kOutputBatch) {
    output_(pending_);
    pending_.clear();
  }
}

void MessageBuilder::finish() {
  if (too_big_) return;
  if (in_header_) end_header();
  if (!pending_.empty()) output_(pending_);
  pending_.clear();
}

}  // namespace smtp_listen
