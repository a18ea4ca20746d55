// dkim-verify: checks every DKIM-Signature of each message (stdin or files) and prints one
// result per signature, as text, JSON lines or an Authentication-Results header field.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <functional>

#include "relay/cli.hpp"
#include "relay/dkim_io.hpp"
#include "relay/dkim_verify.hpp"
#include "relay/dns.hpp"
#include "relay/exit_codes.hpp"
#include "relay/log.hpp"
#include "report.hpp"

namespace {

// The exit code for one message: 0 when a signature passed, 75 when none passed but a key
// could not be fetched now, 65 otherwise (no signature, or none that verified).
int message_code(const std::vector<relay::dkim::SignatureResult>& results) {
  using relay::dkim::Result;
  auto has = [&](Result r) {
    return std::any_of(results.begin(), results.end(), [&](const auto& s) { return s.result == r; });
  };
  if (has(Result::kPass)) return relay::kExitOk;
  if (has(Result::kTempError)) return relay::kExitTemporary;
  return relay::kExitData;
}

// Several messages: the worst code wins, a temporary one over a data error.
int combine(int total, int code) {
  if (total == relay::kExitTemporary || code == relay::kExitTemporary) return relay::kExitTemporary;
  return std::max(total, code);
}

}  // namespace

int main(int argc, char** argv) {
  relay::Tool tool("dkim-verify", "Verify the DKIM signatures of messages (RFC 6376, RFC 8463).");
  tool.add_json();
  tool.add_now();
  std::vector<std::string> files;
  std::string resolver_server, authserv_id;
  unsigned min_key_bits = 1024;
  size_t max_size = 64u << 20;
  size_t max_signatures = 16;
  int timeout_ms = 5000;
  auto& app = tool.app();
  app.add_option("files", files, "messages to verify (default: standard input)");
  app.add_option("--resolver", resolver_server, "DNS server IP[:PORT] (default: /etc/resolv.conf)");
  app.add_option("--timeout", timeout_ms, "DNS timeout per query in milliseconds")->check(CLI::Range(100, 60000));
  app.add_option("--auth-results", authserv_id,
                 "print an Authentication-Results header field with this authserv-id instead of results");
  app.add_option("--min-key-bits", min_key_bits, "shorter RSA keys give permerror")->check(CLI::Range(512, 16384));
  app.add_option("--max-size", max_size, "largest message accepted, in bytes")->check(CLI::Range(1024ul, 1ul << 32));
  app.add_option("--max-signatures", max_signatures, "signatures checked per message")->check(CLI::Range(1, 100));

  return tool.run(argc, argv, [&] {
    auto resolver = relay::dns::make_resolver({.server = resolver_server, .timeout_ms = timeout_ms});
    relay::dkim::VerifyOptions options;
    options.now = tool.clock().fixed() ? tool.clock().seconds() : 0;
    options.min_key_bits = min_key_bits;
    options.max_signatures = max_signatures;

    int total = relay::kExitOk;
    auto verify_one = [&](const std::string& name, const std::function<std::string()>& read) {
      std::vector<relay::dkim::SignatureResult> results;
      try {
        results = relay::dkim::verify_message(read(), *resolver, options);
      } catch (const relay::Failure& e) {
        if (e.code() != relay::kExitData || files.size() < 2) throw;
        relay::log::warning(name + ": " + e.what());  // one bad file does not stop the others
        total = combine(total, e.code());
        return;
      }
      std::string out = !authserv_id.empty() ? relay::dkim::auth_results_field(authserv_id, results)
                        : tool.json()        ? relay::dkim::json_report(name, results)
                                             : relay::dkim::text_report(name, results);
      relay::write_all(STDOUT_FILENO, out, "standard output");
      total = combine(total, message_code(results));
    };
    if (files.empty()) verify_one("", [&] { return relay::dkim::read_limited(STDIN_FILENO, max_size, "standard input"); });
    for (const auto& file : files) verify_one(file, [&] { return relay::dkim::read_file_limited(file, max_size); });
    return total;
  });
}
