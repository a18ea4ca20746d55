#include "stage.hpp"

#include <fmt/format.h>

#include "relay/exit_codes.hpp"
#include "relay/headers.hpp"
#include "relay/log.hpp"
#include "signing_domain.hpp"

namespace relay::dkim {

StageResult sign_message(const StageConfig& config, std::string_view message, std::string_view sender,
                         std::string_view id) {
  HeaderBlock headers(message);
  DomainChoice choice;
  if (headers.malformed() || headers.fields().empty())
    choice.problem = "no valid header section";
  else if (config.source == DomainSource::kFixed)
    choice.domain = config.fixed_domain;
  else if (config.source == DomainSource::kEnvelope)
    choice = domain_from_sender(sender);
  else
    choice = domain_from_header(headers);

  std::vector<SigningChoice> keys;
  if (choice.domain) {
    keys = config.keys.lookup(*choice.domain);
    if (keys.empty()) choice.problem = "no key for " + *choice.domain;
  }
  std::string safe_id = log::sanitize(id);
  if (keys.empty()) {
    std::string reason = log::sanitize(choice.problem);
    log::event({{"id", safe_id}, {"status", config.fail_on_missing_key ? "refused" : "unsigned"}, {"reason", reason}});
    return {config.fail_on_missing_key ? kExitData : kExitOk, "", reason};
  }
  StageResult result;
  int64_t now = config.clock.seconds();
  PreparedMessage prepared = prepare_message(message, headers, config.sign);
  for (const auto& key : keys) {
    result.signatures += make_signature(prepared, key, config.sign, now);
    log::event({{"id", safe_id},
                {"status", "signed"},
                {"d", key.domain},
                {"s", key.key->selector},
                {"a", signing_algorithm(key.key->key.type)}});
  }
  return result;
}

}  // namespace relay::dkim
