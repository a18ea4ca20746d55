#include "report.hpp"

#include <cstdio>

#include "relay/json.hpp"
#include "relay/log.hpp"

namespace mxdeliver {
namespace {

// Values other than the last never hold a space: bytes up to 0x20 become +HH.
std::string field(std::string_view value) {
  std::string out;
  for (char c : relay::log::sanitize(value)) {
    if (static_cast<unsigned char>(c) <= 0x20) {
      char hex[4];
      std::snprintf(hex, sizeof hex, "+%02X", static_cast<unsigned char>(c));
      out += hex;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string report_line(const std::string& recipient, const RecipientOutcome& o, const std::string& id) {
  return "version=" + std::to_string(kReportVersion) + (id.empty() ? "" : " id=" + field(id)) +
         " status=" + std::string(to_string(o.outcome)) +
         " rcpt=" + field(recipient) + " dsn=" + field(o.status) + " remote=" + field(o.remote) +
         " tls=" + field(o.tls.empty() ? "none" : o.tls) + " reply=" + relay::log::sanitize(o.response);
}

std::string report_json(const std::string& recipient, const RecipientOutcome& o, const std::string& id) {
  relay::JsonObject j;
  j.add("version", kReportVersion);
  if (!id.empty()) j.add("id", id);
  j.add("status", to_string(o.outcome))
      .add("rcpt", recipient)
      .add("dsn", o.status)
      .add("remote", o.remote)
      .add("tls", o.tls.empty() ? "none" : o.tls)
      .add("reply", o.response);
  if (!o.reason.empty()) j.add("reason", o.reason);
  return j.str();
}

std::string log_line(const std::string& id, const std::string& recipient, const RecipientOutcome& o,
                     double delay_seconds) {
  char delay[32];
  std::snprintf(delay, sizeof delay, "%.2f", delay_seconds);
  return id + " to=<" + relay::log::sanitize(recipient) + "> relay=" + (o.remote.empty() ? "none" : o.remote) +
         " delay=" + delay + " tls=" + (o.tls.empty() ? "none" : o.tls) + " dsn=" + o.status +
         " status=" + std::string(to_string(o.outcome)) + " (" + relay::log::sanitize(o.response) + ")";
}

}  // namespace mxdeliver
