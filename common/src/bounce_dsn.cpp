// RFC 3464 delivery status (message/delivery-status, and RFC 6533 message/global-delivery-status)
// and RFC 5965 feedback reports (message/feedback-report).
#include "bounce_internal.hpp"

namespace relay::bounce::detail {
namespace {

constexpr size_t kMaxFieldBlocks = 2000;

bool is_recipient_block(const FieldBlock& block) {
  return block.has("Final-Recipient") || block.has("Original-Recipient") || block.has("Action");
}

// The first word of a Status value: "5.1.1 (bad destination mailbox)" -> "5.1.1".
std::string status_code(std::string_view value) {
  std::string status = one_line(value);
  size_t space = status.find_first_of(" (");
  if (space != std::string::npos) status.resize(space);
  return find_status(status) == status ? status : std::string();
}

// A host name field: "dns; mx.example.com. (192.0.2.1, the server for ...)" -> "mx.example.com".
std::string host_of(std::string_view value) {
  std::string host = strip_type(value);
  if (size_t space = host.find(' '); space != std::string::npos) host.resize(space);
  while (!host.empty() && host.back() == '.') host.pop_back();
  return host;
}

}  // namespace

bool read_delivery_status(std::string_view text, Report& report, const Options& options) {
  bool any = false;
  for (const FieldBlock& block : read_field_blocks(text, kMaxFieldBlocks)) {
    if (!is_recipient_block(block)) {
      if (report.reporting_mta.empty()) report.reporting_mta = host_of(block.get("Reporting-MTA"));
      if (report.envelope_sender.empty()) report.envelope_sender = strip_type(block.get("X-Postfix-Sender"));
      if (report.message_id.empty()) report.message_id = one_line(block.get("X-Original-Message-ID"));  // Gmail
      continue;
    }
    any = true;
    Recipient r;
    r.original_recipient = strip_type(block.get("Original-Recipient"));
    r.address = strip_type(block.get("Final-Recipient"));
    if (r.address.empty()) r.address = r.original_recipient;
    r.action = to_lower(one_line(block.get("Action")));
    if (size_t space = r.action.find(' '); space != std::string::npos) r.action.resize(space);  // "failed (bad)"
    if (r.action == "delivered" || r.action == "relayed" || r.action == "expanded") continue;
    r.status = status_code(block.get("Status"));
    std::string diagnostic = block.get("Diagnostic-Code");
    r.diagnostic = strip_type(diagnostic);
    r.remote_mta = host_of(block.get("Remote-MTA"));
    // A local delivery agent's failure (Postfix pipe, X-Unix) is the mailer's, whatever it says.
    if (starts_with_nocase(one_line(diagnostic), "x-unix") && r.status.size() >= 3 && r.status.substr(1, 2) == ".3")
      r.reason = Reason::kMailerError;
    complete(r);
    if (report.recipients.size() < options.max_recipients) report.recipients.push_back(std::move(r));
  }
  return any;
}

bool read_feedback_report(std::string_view text, Report& report, const Options& options) {
  std::vector<FieldBlock> blocks = read_field_blocks(text, kMaxFieldBlocks);
  if (blocks.empty()) return false;
  const FieldBlock& block = blocks.front();
  std::string type = to_lower(one_line(block.get("Feedback-Type")));
  // RFC 6591 authentication-failure reports and "not-spam" are no complaint about a recipient.
  if (type == "auth-failure" || type == "not-spam") {
    report.why_not = "the feedback report is of type " + type + ", not a complaint";
    return false;
  }
  report.reporting_mta = host_of(block.get("Reporting-MTA"));
  report.envelope_sender = strip_type(block.get("Original-Mail-From"));
  std::string diagnostic = "feedback-type=" + (type.empty() ? std::string("abuse") : type);
  if (std::string agent = block.get("User-Agent"); !agent.empty()) diagnostic += "; user-agent=" + agent;
  if (std::string source = block.get("Source-IP"); !source.empty()) diagnostic += "; source-ip=" + source;
  for (const std::string& rcpt : block.get_all("Original-Rcpt-To")) {
    if (report.recipients.size() >= options.max_recipients) break;
    Recipient r;
    r.address = strip_type(rcpt);
    r.action = "complained";
    r.diagnostic = diagnostic;
    r.reason = Reason::kComplaint;
    complete(r);
    report.recipients.push_back(std::move(r));
  }
  // Without Original-Rcpt-To the recipient comes from the enclosed message (the caller adds it).
  if (report.recipients.empty()) {
    Recipient r;
    r.action = "complained";
    r.diagnostic = diagnostic;
    r.reason = Reason::kComplaint;
    report.recipients.push_back(std::move(r));
  }
  return true;
}

}  // namespace relay::bounce::detail
