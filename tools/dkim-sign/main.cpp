// dkim-sign: adds DKIM-Signature header fields to a message (stdin to stdout, every byte kept),
// or, under spool-run's streaming mode (RELAY_FILTER_PROTOCOL=1), to each message of a stage
// with the keys loaded once.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "relay/address.hpp"
#include "relay/cli.hpp"
#include "relay/clock.hpp"
#include "relay/dkim_io.hpp"
#include "relay/exit_codes.hpp"
#include "relay/filter_protocol.hpp"
#include "relay/headers.hpp"
#include "stage.hpp"

namespace {

using relay::dkim::Canon;

// "relaxed/simple", or one word for both (RFC 6376 3.5 c= with a missing body part means
// simple; here a single word names both, as operators expect).
std::pair<Canon, Canon> parse_canonicalization(const std::string& text) {
  auto one = [&](std::string_view word) {
    if (word == "relaxed") return Canon::kRelaxed;
    if (word == "simple") return Canon::kSimple;
    throw relay::Failure(relay::kExitUsage, "unable to use --canonicalization " + text + ": expected simple or relaxed");
  };
  size_t slash = text.find('/');
  if (slash == std::string::npos) return {one(text), one(text)};
  return {one(std::string_view(text).substr(0, slash)), one(std::string_view(text).substr(slash + 1))};
}

// "From:To, Subject" -> {"from", "to", "subject"}
std::vector<std::string> header_names(const std::string& list) {
  std::vector<std::string> names;
  std::string name;
  for (char c : list + ":") {
    if (c == ':' || c == ',' || c == ' ') {
      if (!name.empty()) names.push_back(relay::to_lower(name));
      name.clear();
    } else if (c > ' ' && c < 127) {
      name.push_back(c);
    } else {
      throw relay::Failure(relay::kExitUsage, "unable to use header list \"" + list + "\": not a field name");
    }
  }
  return names;
}

std::string env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value ? value : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  relay::Tool tool("dkim-sign", "Sign a message with DKIM (rsa-sha256, ed25519-sha256) from a key table.");
  tool.add_now();
  std::string key_table, domain, canonicalization = "relaxed/relaxed", on_missing = "pass", lifetime;
  std::string headers, oversign = "from";
  bool from_envelope = false;
  size_t max_size = 64u << 20;
  unsigned threads = 2;
  auto& app = tool.app();
  app.add_option("--keys", key_table, "key table: DOMAIN SELECTOR KEYFILE per line (see dkim-sign(8))")->required();
  auto* domain_option = app.add_option("--domain", domain, "sign for this domain instead of the From header's");
  app.add_flag("--from-envelope", from_envelope, "sign for the envelope sender's domain (RELAY_SENDER or the stream's envelope)")
      ->excludes(domain_option);
  app.add_option("--canonicalization,-c", canonicalization, "header/body: simple or relaxed (default relaxed/relaxed)");
  app.add_option("--headers", headers, "fields to sign when present, colon-separated (default: RFC 6376 5.4.1 list)");
  app.add_option("--oversign", oversign, "fields listed once more than present, so none can be added (default from)");
  app.add_option("--expire", lifetime, "add x= this long after t= (300s, 4h, 7d)");
  app.add_option("--on-missing-key", on_missing, "no key or no single From domain: pass (unsigned) or fail (65)")
      ->check(CLI::IsMember({"pass", "fail"}));
  app.add_option("--max-size", max_size, "largest message accepted, in bytes")->check(CLI::Range(1024ul, 1ul << 32));
  app.add_option("--threads", threads, "streaming with pipelining: messages signed at once, on as many threads (default 2)")
      ->check(CLI::Range(1u, 64u));

  return tool.run(argc, argv, [&]() -> int {
    relay::dkim::StageConfig config;
    std::tie(config.sign.header_canon, config.sign.body_canon) = parse_canonicalization(canonicalization);
    config.sign.headers = headers.empty() ? relay::dkim::default_signed_headers() : header_names(headers);
    if (std::find(config.sign.headers.begin(), config.sign.headers.end(), "from") == config.sign.headers.end())
      config.sign.headers.insert(config.sign.headers.begin(), "from");  // RFC 6376 5.4: From is required
    config.sign.oversign = header_names(oversign);
    for (const auto& name : config.sign.oversign)  // an oversigned field is a signed field
      if (std::find(config.sign.headers.begin(), config.sign.headers.end(), name) == config.sign.headers.end())
        config.sign.headers.push_back(name);
    if (!lifetime.empty()) {
      auto seconds = relay::parse_duration(lifetime);
      if (!seconds || *seconds <= 0) throw relay::Failure(relay::kExitUsage, "unable to use --expire " + lifetime + ": not a duration");
      config.sign.lifetime = *seconds;
    }
    config.source = from_envelope    ? relay::dkim::DomainSource::kEnvelope
                    : domain.empty() ? relay::dkim::DomainSource::kHeader
                                     : relay::dkim::DomainSource::kFixed;
    config.fixed_domain = relay::to_lower(domain);
    if (!domain.empty() && !relay::valid_domain(config.fixed_domain, false))
      throw relay::Failure(relay::kExitUsage, "unable to use --domain " + domain + ": not a domain name");
    config.fail_on_missing_key = on_missing == "fail";
    config.clock = tool.clock();
    config.keys = relay::dkim::KeyTable::load(key_table);

    if (relay::filter::streaming_requested()) {
      // Safe on several threads: the configuration and keys are only read, and each thread
      // signs with its own OpenSSL contexts.
      return relay::filter::serve_concurrently([&](const relay::Envelope& envelope, const std::string& message) {
        if (message.size() > max_size) return relay::filter::Verdict{relay::kExitData, "message larger than --max-size", ""};
        auto result = relay::dkim::sign_message(config, message, envelope.sender, envelope.id);
        if (result.code != relay::kExitOk) return relay::filter::Verdict{result.code, "not signed: " + result.reason, ""};
        // Only the new fields go back: spool-run puts them before the message it holds.
        return relay::filter::Verdict{relay::kExitOk, "", std::move(result.signatures), true};
      }, threads);
    }
    std::string message = relay::dkim::read_limited(STDIN_FILENO, max_size, "standard input");
    auto result = relay::dkim::sign_message(config, message, env_or("RELAY_SENDER", ""), env_or("RELAY_ID", "-"));
    if (result.code != relay::kExitOk) throw relay::Failure(result.code, "unable to sign message: " + result.reason);
    relay::write_all(STDOUT_FILENO, result.signatures, "standard output");
    relay::write_all(STDOUT_FILENO, message, "standard output");
    return relay::kExitOk;
  });
}
