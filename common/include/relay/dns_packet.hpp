#pragma once
// Decoding of ldns response packets into dns.hpp answers, apart from the network code so unit
// tests can feed packets built in memory (malformed, truncated, CNAME chains, odd rcodes).
#include <stdbool.h>  // first: without it ldns.h redefines bool as a macro
#include <ldns/ldns.h>

#include <string>
#include <vector>

#include "relay/dns.hpp"

namespace relay::dns {

// The records of `type` a response holds for qname, after following the CNAME chain that
// starts at qname (at most 16 links). Status from the rcode and whether such records exist.
struct RecordSet {
  Status status = Status::kServFail;
  std::vector<const ldns_rr*> records;  // owned by the packet
  std::vector<std::string> cname_chain;
};
RecordSet select_records(const ldns_pkt* packet, const ldns_rdf* qname, ldns_rr_type type);

// Record data as dns.hpp returns it; nullopt when the rdata is not what the type requires.
std::optional<std::string> address_of(const ldns_rr* rr);  // A or AAAA, as text
std::optional<MxRecord> mx_of(const ldns_rr* rr);
std::optional<std::string> txt_of(const ldns_rr* rr);     // strings joined
std::optional<std::string> target_of(const ldns_rr* rr);  // PTR or CNAME target, no final dot
std::optional<TlsaRecord> tlsa_of(const ldns_rr* rr);

// A domain name as text without the final dot ("" for the root), escapes as ldns writes them.
std::string name_text(const ldns_rdf* dname);

}  // namespace relay::dns
