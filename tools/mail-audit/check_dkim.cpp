// DKIM: each selector's key record is present and usable; RSA under 1024 bits fails, under
// 2048 warns (RFC 8301); t=y (testing) warns.
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cctype>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "checks.hpp"
#include "relay/base64.hpp"

namespace relay::mail_audit {
namespace {

std::string trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return std::string(text);
}

// tag=value list (RFC 6376 3.2); nullopt when a part is not tag=value or a tag repeats.
std::optional<std::map<std::string, std::string>> parse_tags(std::string_view text) {
  std::map<std::string, std::string> tags;
  size_t start = 0;
  while (start <= text.size()) {
    size_t semicolon = text.find(';', start);
    if (semicolon == std::string_view::npos) semicolon = text.size();
    std::string part = trim(text.substr(start, semicolon - start));
    start = semicolon + 1;
    if (part.empty()) continue;
    size_t equals = part.find('=');
    if (equals == std::string::npos) return std::nullopt;
    if (!tags.emplace(trim(part.substr(0, equals)), trim(part.substr(equals + 1))).second) return std::nullopt;
  }
  return tags;
}

// Bits of an RSA SubjectPublicKeyInfo; 0 when it is not one.
int rsa_bits(const std::string& der) {
  const unsigned char* data = reinterpret_cast<const unsigned char*>(der.data());
  EVP_PKEY* key = d2i_PUBKEY(nullptr, &data, static_cast<long>(der.size()));
  if (!key) return 0;
  int bits = EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA ? EVP_PKEY_get_bits(key) : 0;
  EVP_PKEY_free(key);
  return bits;
}

void check_selector(dns::Resolver& resolver, const std::string& domain, const std::string& selector, Findings& findings) {
  std::string name = selector + "._domainkey." + domain;
  std::string check = "dkim " + selector;
  auto txt = resolver.txt(name);
  if (txt.status == dns::Status::kNxDomain || txt.status == dns::Status::kNoData || (txt.ok() && txt.records.empty()))
    return findings.fail(check, fmt::format("no key record at {}", name), "publish the key (dkim-keygen --print) or fix the selector");
  if (!txt.ok()) return findings.dns_error(check, txt.status, "TXT", name);
  if (txt.records.size() > 1)
    return findings.fail(check, fmt::format("{} TXT records at {}", txt.records.size(), name), "publish exactly one key record");
  auto tags = parse_tags(txt.records[0]);
  if (!tags) return findings.fail(check, "the key record is not a tag=value list", "republish the record dkim-keygen prints");
  if (tags->count("v") && (*tags)["v"] != "DKIM1")
    return findings.fail(check, fmt::format("v={} (must be DKIM1)", (*tags)["v"]), "republish the record dkim-keygen prints");
  if (!tags->count("p")) return findings.fail(check, "no p= tag", "republish the record dkim-keygen prints");
  if ((*tags)["p"].empty())
    return findings.fail(check, "the key is revoked (empty p=)", "sign with a current selector or publish its key");
  std::string type = tags->count("k") ? (*tags)["k"] : "rsa";
  auto key = relay::base64_decode((*tags)["p"], true);
  if (!key) return findings.fail(check, "p= is not valid base64", "republish the record dkim-keygen prints");
  std::string flags = tags->count("t") ? (*tags)["t"] : "";
  bool testing = false;
  for (size_t start = 0; start <= flags.size();) {
    size_t colon = flags.find(':', start);
    if (colon == std::string::npos) colon = flags.size();
    testing |= trim(std::string_view(flags).substr(start, colon - start)) == "y";
    start = colon + 1;
  }
  std::string detail;
  if (type == "ed25519") {
    if (key->size() != 32) return findings.fail(check, "ed25519 key is not 32 bytes", "republish the record dkim-keygen prints");
    detail = "ed25519";
  } else if (type == "rsa") {
    int bits = rsa_bits(*key);
    if (bits == 0) return findings.fail(check, "p= is not an RSA public key", "republish the record dkim-keygen prints");
    detail = fmt::format("rsa {} bits", bits);
    if (bits < 1024) return findings.fail(check, detail + ": receivers reject keys under 1024 bits", "make a 2048-bit key");
    if (bits < 2048) return findings.warn(check, detail + ": under 2048 bits", "rotate to a 2048-bit key");
  } else {
    return findings.fail(check, fmt::format("unknown key type k={}", type), "use k=rsa or k=ed25519");
  }
  if (testing)
    return findings.warn(check, detail + ", t=y (testing: verifiers may ignore failures)", "remove t=y once signing works");
  findings.pass(check, detail);
}

}  // namespace

void check_dkim(dns::Resolver& resolver, const AuditOptions& options, Findings& findings) {
  if (options.selectors.empty())
    return findings.warn("dkim", "no selector given: DNS cannot list a domain's selectors",
                         "run again with --selector for each selector the relay signs with");
  for (const auto& selector : options.selectors) check_selector(resolver, options.domain, selector, findings);
}

}  // namespace relay::mail_audit
