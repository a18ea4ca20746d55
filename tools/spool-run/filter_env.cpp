#include "filter_env.hpp"

#include <unistd.h>

#include <array>
#include <string_view>

#include "relay/exit_codes.hpp"
#include "relay/filter_protocol.hpp"

extern char** environ;

namespace relay::spoolrun {
namespace {

constexpr std::array kOwnVariables = {"RELAY_SPOOL", "RELAY_STAGE", "RELAY_ID", "RELAY_SENDER", "RELAY_RECIPIENTS",
                                      "RELAY_AUTH_USER", "RELAY_CLIENT_ADDRESS", "RELAY_HELO",
                                      relay::filter::kProtocolEnv, relay::filter::kExtensionsEnv};

bool is_own(std::string_view entry) {
  std::string_view name = entry.substr(0, entry.find('='));
  for (std::string_view own : kOwnVariables)
    if (name == own) return true;
  return false;
}

}  // namespace

std::vector<std::string> inherited_environment() {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e)
    if (!is_own(*e)) env.emplace_back(*e);
  return env;
}

std::vector<std::string> message_environment(const std::vector<std::string>& inherited, const std::string& spool,
                                             const std::string& stage, const Envelope& envelope) {
  std::string recipients;
  for (const auto& r : envelope.recipients) {
    if (r.done()) continue;
    if (!recipients.empty()) recipients += '\n';
    recipients += r.address;
  }
  if (recipients.size() > kMaxVariable)
    throw Failure(kExitData, "unable to pass the recipients to the filter: the list is longer than " +
                                 std::to_string(kMaxVariable) + " bytes (use --stream)");
  std::vector<std::string> env = inherited;
  env.push_back("RELAY_SPOOL=" + spool);
  env.push_back("RELAY_STAGE=" + stage);
  env.push_back("RELAY_ID=" + envelope.id);
  env.push_back("RELAY_SENDER=" + envelope.sender);
  env.push_back("RELAY_RECIPIENTS=" + recipients);
  env.push_back("RELAY_AUTH_USER=" + envelope.auth_user);
  env.push_back("RELAY_CLIENT_ADDRESS=" + envelope.client_address);
  env.push_back("RELAY_HELO=" + envelope.helo);
  return env;
}

std::vector<std::string> stream_environment(const std::vector<std::string>& inherited, const std::string& spool,
                                            const std::string& stage) {
  std::vector<std::string> env = inherited;
  env.push_back("RELAY_SPOOL=" + spool);
  env.push_back("RELAY_STAGE=" + stage);
  env.push_back(std::string(relay::filter::kProtocolEnv) + "=" + std::to_string(relay::filter::kProtocolVersion));
  env.push_back(std::string(relay::filter::kExtensionsEnv) + "=" + relay::filter::kPipelining + " " +
                relay::filter::kPrepend);
  return env;
}

}  // namespace relay::spoolrun
