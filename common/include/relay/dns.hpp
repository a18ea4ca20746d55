#pragma once
// DNS lookups through ldns, for every program that resolves (mx-deliver, dkim-verify,
// spf-check, dmarc-check, mail-audit). --resolver IP[:PORT] points a program at a server on
// loopback in tests; the default is the system resolver (/etc/resolv.conf).
// Programs talk to the Resolver interface, so unit tests can answer from a table.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relay::dns {

enum class Status {
  kOk,         // NOERROR with answers of the asked type
  kNoData,     // NOERROR without answers of the asked type
  kNxDomain,   // the name does not exist
  kServFail,   // SERVFAIL, REFUSED or another error rcode
  kTimeout,    // no answer in time (or no server could be reached)
  kMalformed,  // the answer could not be parsed, or the name is not a valid DNS name
};
std::string_view to_string(Status status);
// Whether a retry later may succeed (SERVFAIL, timeout): mail defers, audits say "temperror".
inline bool is_temporary(Status s) { return s == Status::kServFail || s == Status::kTimeout; }

struct MxRecord {
  uint16_t preference = 0;
  std::string exchange;  // without the trailing dot; "." (null MX) is returned as ""
};

struct TlsaRecord {
  uint8_t usage = 0, selector = 0, matching = 0;
  std::string data;  // raw bytes
};

template <typename T>
struct Answer {
  Status status = Status::kServFail;
  std::vector<T> records;
  std::vector<std::string> cname_chain;  // names the query followed (for "no CNAME target" checks)
  bool ok() const { return status == Status::kOk; }
};

class Resolver {
 public:
  virtual ~Resolver() = default;
  virtual Answer<std::string> a(std::string_view name) = 0;      // IPv4 addresses as text
  virtual Answer<std::string> aaaa(std::string_view name) = 0;   // IPv6 addresses as text
  virtual Answer<MxRecord> mx(std::string_view name) = 0;
  // Each TXT record's strings joined without separators (RFC 7208 3.3, RFC 6376 3.6.2.2).
  virtual Answer<std::string> txt(std::string_view name) = 0;
  virtual Answer<std::string> ptr(std::string_view address) = 0;  // address as text; names without dot
  virtual Answer<TlsaRecord> tlsa(std::string_view name) = 0;
  // Number of queries sent so far (traces, SPF limits, benchmarks).
  virtual uint64_t queries() const = 0;
};

struct ResolverOptions {
  std::string server;        // "IP", "IP:PORT" or "[IPv6]:PORT"; empty: /etc/resolv.conf
  int timeout_ms = 5000;     // per query, all retries included
  int retries = 1;
  bool tcp_fallback = true;  // on truncated UDP answers
};

// The ldns-backed resolver. Throws relay::Failure(kExitUsage) on a bad server string and
// Failure(kExitConfig) when no resolver is configured.
std::unique_ptr<Resolver> make_resolver(const ResolverOptions& options);

// "1.2.0.192.in-addr.arpa" / nibble form for IPv6; nullopt when address is not an IP.
std::optional<std::string> reverse_name(std::string_view address);

}  // namespace relay::dns
