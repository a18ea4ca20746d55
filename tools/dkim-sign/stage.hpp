#pragma once
// dkim-sign's job for one message, shared by the filter mode (one message on stdin) and the
// streaming mode of spool-run: choose the domain, find its keys, make the signatures.
#include <string>
#include <string_view>

#include "key_table.hpp"
#include "relay/clock.hpp"
#include "signer.hpp"

namespace relay::dkim {

enum class DomainSource { kHeader, kEnvelope, kFixed };

struct StageConfig {
  KeyTable keys;
  SignOptions sign;
  DomainSource source = DomainSource::kHeader;
  std::string fixed_domain;        // for kFixed
  bool fail_on_missing_key = false;
  Clock clock;
};

struct StageResult {
  int code = 0;             // 0, or 65 when the message is not signed and the policy says fail
  std::string signatures;   // the DKIM-Signature fields to put before the message
  std::string reason;       // why it was not signed: "no key for example.com" (empty when signed)
};

// Signs one message; logs one event line (id= as given) for each message.
StageResult sign_message(const StageConfig& config, std::string_view message, std::string_view sender,
                         std::string_view id);

}  // namespace relay::dkim
