// The ldns-backed Resolver: one ldns_resolver per program, queries sent as asked (no search
// list), UDP with EDNS, TCP when the answer is still truncated, results mapped to Status.
#include "relay/dns.hpp"

#include <arpa/inet.h>
#include <stdbool.h>  // first: without it ldns.h redefines bool as a macro
#include <ldns/ldns.h>

#include <algorithm>
#include <charconv>
#include <fmt/format.h>

#include "relay/dns_packet.hpp"
#include "relay/exit_codes.hpp"

namespace relay::dns {

std::string_view to_string(Status status) {
  switch (status) {
    case Status::kOk: return "ok";
    case Status::kNoData: return "nodata";
    case Status::kNxDomain: return "nxdomain";
    case Status::kServFail: return "servfail";
    case Status::kTimeout: return "timeout";
    case Status::kMalformed: return "malformed";
  }
  return "unknown";
}

std::optional<std::string> reverse_name(std::string_view address) {
  std::string text(address);
  unsigned char bytes[16];
  if (inet_pton(AF_INET, text.c_str(), bytes) == 1)
    return fmt::format("{}.{}.{}.{}.in-addr.arpa", bytes[3], bytes[2], bytes[1], bytes[0]);
  if (inet_pton(AF_INET6, text.c_str(), bytes) != 1) return std::nullopt;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name;
  for (int i = 15; i >= 0; --i) {
    name += kHex[bytes[i] & 0xf];
    name += '.';
    name += kHex[bytes[i] >> 4];
    name += '.';
  }
  return name + "ip6.arpa";
}

namespace {

struct Endpoint {
  std::string address;
  uint16_t port = 53;
};

// "IP", "IP:PORT", "[IPv6]:PORT" or a bare IPv6 address.
Endpoint parse_server(const std::string& server) {
  auto bad = [&](const char* why) {
    return Failure(kExitUsage, fmt::format("unable to use resolver {}: {}", server, why));
  };
  Endpoint endpoint;
  std::string port_text;
  if (server.starts_with('[')) {
    size_t close = server.find(']');
    if (close == std::string::npos) throw bad("missing ]");
    endpoint.address = server.substr(1, close - 1);
    if (close + 1 < server.size()) {
      if (server[close + 1] != ':') throw bad("expected :PORT after ]");
      port_text = server.substr(close + 2);
    }
  } else if (std::count(server.begin(), server.end(), ':') == 1) {
    size_t colon = server.find(':');
    endpoint.address = server.substr(0, colon);
    port_text = server.substr(colon + 1);
  } else {
    endpoint.address = server;
  }
  if (!port_text.empty() || server.ends_with(':')) {
    unsigned port = 0;
    auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (error != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
      throw bad("port must be 1-65535");
    endpoint.port = static_cast<uint16_t>(port);
  }
  unsigned char scratch[16];
  if (inet_pton(AF_INET, endpoint.address.c_str(), scratch) != 1 &&
      inet_pton(AF_INET6, endpoint.address.c_str(), scratch) != 1)
    throw bad("not an IP address");
  return endpoint;
}

struct ResolverDeleter {
  void operator()(ldns_resolver* r) const { ldns_resolver_deep_free(r); }
};
struct PacketDeleter {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
struct RdfDeleter {
  void operator()(ldns_rdf* r) const { ldns_rdf_deep_free(r); }
};
using RdfPtr = std::unique_ptr<ldns_rdf, RdfDeleter>;

ldns_resolver* new_resolver(const ResolverOptions& options) {
  if (options.server.empty()) {
    ldns_resolver* resolver = nullptr;
    ldns_status status = ldns_resolver_new_frm_file(&resolver, nullptr);
    if (status != LDNS_STATUS_OK)
      throw Failure(kExitConfig, fmt::format("unable to read resolver configuration /etc/resolv.conf: {}",
                                             ldns_get_errorstr_by_id(status)));
    if (ldns_resolver_nameserver_count(resolver) == 0) {
      ldns_resolver_deep_free(resolver);
      throw Failure(kExitConfig, "unable to read resolver configuration /etc/resolv.conf: no nameserver");
    }
    return resolver;
  }
  Endpoint endpoint = parse_server(options.server);
  bool v6 = endpoint.address.find(':') != std::string::npos;
  RdfPtr address(ldns_rdf_new_frm_str(v6 ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, endpoint.address.c_str()));
  ldns_resolver* resolver = ldns_resolver_new();
  if (!address || !resolver || ldns_resolver_push_nameserver(resolver, address.get()) != LDNS_STATUS_OK) {
    if (resolver) ldns_resolver_deep_free(resolver);
    throw Failure(kExitTemporary, "unable to create resolver: out of memory");
  }
  ldns_resolver_set_port(resolver, endpoint.port);
  return resolver;
}

class LdnsResolver final : public Resolver {
 public:
  explicit LdnsResolver(const ResolverOptions& options) : resolver_(new_resolver(options)) {
    int tries = std::max(1, options.retries + 1);
    int per_try_ms = std::max(1, options.timeout_ms / tries);
    ldns_resolver_set_timeout(resolver_.get(), timeval{per_try_ms / 1000, (per_try_ms % 1000) * 1000});
    ldns_resolver_set_retry(resolver_.get(), static_cast<uint8_t>(std::min(tries, 255)));
    ldns_resolver_set_retrans(resolver_.get(), 0);  // no pause between tries: the timeout is the budget
    ldns_resolver_set_recursive(resolver_.get(), true);
    ldns_resolver_set_fallback(resolver_.get(), options.tcp_fallback);
    ldns_resolver_set_edns_udp_size(resolver_.get(), 1232);
    ldns_resolver_set_dnssec(resolver_.get(), false);
    ldns_resolver_set_defnames(resolver_.get(), false);
    ldns_resolver_set_dnsrch(resolver_.get(), false);
  }

  Answer<std::string> a(std::string_view name) override { return lookup(name, LDNS_RR_TYPE_A, address_of); }
  Answer<std::string> aaaa(std::string_view name) override { return lookup(name, LDNS_RR_TYPE_AAAA, address_of); }
  Answer<MxRecord> mx(std::string_view name) override { return lookup(name, LDNS_RR_TYPE_MX, mx_of); }
  Answer<std::string> txt(std::string_view name) override { return lookup(name, LDNS_RR_TYPE_TXT, txt_of); }
  Answer<TlsaRecord> tlsa(std::string_view name) override { return lookup(name, LDNS_RR_TYPE_TLSA, tlsa_of); }
  Answer<std::string> ptr(std::string_view address) override {
    std::optional<std::string> name = reverse_name(address);
    if (!name) return {Status::kMalformed, {}, {}};
    return lookup(*name, LDNS_RR_TYPE_PTR, target_of);
  }
  uint64_t queries() const override { return queries_; }

 private:
  template <typename Record>
  Answer<Record> lookup(std::string_view name, ldns_rr_type type, std::optional<Record> (*decode)(const ldns_rr*)) {
    Answer<Record> answer;
    RdfPtr qname = absolute_name(name);
    if (!qname) {
      answer.status = Status::kMalformed;
      return answer;
    }
    ++queries_;
    ldns_pkt* raw = nullptr;
    ldns_status sent = ldns_resolver_send(&raw, resolver_.get(), qname.get(), type, LDNS_RR_CLASS_IN, LDNS_RD);
    std::unique_ptr<ldns_pkt, PacketDeleter> packet(raw);
    if (sent != LDNS_STATUS_OK || !packet) {
      answer.status = is_network_error(sent) ? Status::kTimeout : Status::kMalformed;
      return answer;
    }
    RecordSet set = select_records(packet.get(), qname.get(), type);
    answer.status = set.status;
    answer.cname_chain = std::move(set.cname_chain);
    for (const ldns_rr* rr : set.records) {
      auto record = decode(rr);
      if (!record) {
        answer.status = Status::kMalformed;
        answer.records.clear();
        return answer;
      }
      answer.records.push_back(std::move(*record));
    }
    return answer;
  }

  // The name as an absolute domain name; null when it is not a valid one.
  static RdfPtr absolute_name(std::string_view name) {
    if (name.empty() || name.size() > 254 || name.find('\0') != std::string_view::npos) return nullptr;
    std::string text(name);
    if (!text.ends_with('.')) text += '.';
    if (text.find("..") != std::string::npos || text == ".") return nullptr;
    return RdfPtr(ldns_dname_new_frm_str(text.c_str()));
  }

  static bool is_network_error(ldns_status status) {
    return status == LDNS_STATUS_NETWORK_ERR || status == LDNS_STATUS_SOCKET_ERROR ||
           status == LDNS_STATUS_RES_NO_NS || status == LDNS_STATUS_ADDRESS_ERR || status == LDNS_STATUS_ERR;
  }

  std::unique_ptr<ldns_resolver, ResolverDeleter> resolver_;
  uint64_t queries_ = 0;
};

}  // namespace

std::unique_ptr<Resolver> make_resolver(const ResolverOptions& options) {
  return std::make_unique<LdnsResolver>(options);
}

}  // namespace relay::dns
