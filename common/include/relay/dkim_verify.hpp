#pragma once
// DKIM verification (RFC 6376, RFC 8463) of every DKIM-Signature of a message, through
// libopendkim with the public keys fetched by our Resolver. Used by dkim-verify and
// dmarc-check (which needs d= and the result of each signature).
//
//   auto resolver = relay::dns::make_resolver({.server = "127.0.0.1:15353"});
//   for (const auto& sig : relay::dkim::verify_message(message, *resolver))
//     if (sig.result == relay::dkim::Result::kPass) aligned |= same_org(sig.domain, from_domain);
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "relay/dns.hpp"

namespace relay::dkim {

// RFC 8601 2.7.1 result names. A message without any signature has no results ("none").
enum class Result {
  kPass,       // signature and body hash verified with the published key
  kFail,       // the signature or the body hash did not verify
  kNeutral,    // the signature could not be processed (syntax, unsupported version/algorithm)
  kTempError,  // the key could not be fetched now (DNS SERVFAIL, timeout): try later
  kPermError,  // the key is missing, revoked, unusable or too short; the signature expired
};
std::string_view to_string(Result result);

struct SignatureResult {
  std::string domain;     // d=
  std::string selector;   // s=
  std::string identity;   // i= (the agent or user identifier), "@" + d= when absent
  std::string algorithm;  // a=: "rsa-sha256", "ed25519-sha256", "rsa-sha1", or as written
  Result result = Result::kNeutral;
  std::string reason;     // why, for anything but pass: "body hash did not verify", "key revoked", ...
  unsigned key_bits = 0;  // size of the public key when it was loaded, else 0
};

struct VerifyOptions {
  int64_t now = 0;               // seconds since the epoch for t=/x= checks; 0: the system clock
  unsigned min_key_bits = 1024;  // shorter RSA keys give permerror (RFC 8301 3.2)
  size_t max_signatures = 16;    // later signatures are not checked (a cost limit)
};

// Checks every DKIM-Signature header field of message (CRLF or bare LF line ends), in the
// order they appear. Throws relay::Failure(kExitData) when the message has no header section
// that can be parsed. DNS problems never throw: they are per-signature temperror/permerror.
std::vector<SignatureResult> verify_message(std::string_view message, dns::Resolver& resolver,
                                            const VerifyOptions& options = {});

}  // namespace relay::dkim
