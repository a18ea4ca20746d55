// Response decoding: rcode and CNAME chain to Status, rdata to dns.hpp records.
#include "relay/dns_packet.hpp"

#include <arpa/inet.h>

#include <cstdlib>
#include <memory>

namespace relay::dns {
namespace {

constexpr int kMaxCnameLinks = 16;  // a longer chain is treated as a loop

bool same_name(const ldns_rdf* a, const ldns_rdf* b) { return ldns_dname_compare(a, b) == 0; }

const ldns_rdf* cname_target(const ldns_rr_list* answer, const ldns_rdf* owner) {
  for (size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(answer, i);
    if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME && ldns_rr_rd_count(rr) == 1 &&
        same_name(ldns_rr_owner(rr), owner))
      return ldns_rr_rdf(rr, 0);
  }
  return nullptr;
}

}  // namespace

std::string name_text(const ldns_rdf* dname) {
  std::unique_ptr<char, decltype(&std::free)> text(ldns_rdf2str(dname), &std::free);
  std::string name = text ? text.get() : "";
  if (!name.empty() && name.back() == '.') name.pop_back();
  return name;
}

RecordSet select_records(const ldns_pkt* packet, const ldns_rdf* qname, ldns_rr_type type) {
  RecordSet set;
  const ldns_rr_list* answer = ldns_pkt_answer(packet);
  const ldns_rdf* owner = qname;
  if (type != LDNS_RR_TYPE_CNAME) {
    for (int links = 0; const ldns_rdf* next = cname_target(answer, owner); ++links) {
      if (links == kMaxCnameLinks) {
        set.status = Status::kMalformed;
        return set;
      }
      set.cname_chain.push_back(name_text(next));
      owner = next;
    }
  }
  switch (ldns_pkt_get_rcode(packet)) {
    case LDNS_RCODE_NOERROR:
      break;
    case LDNS_RCODE_NXDOMAIN:
      set.status = Status::kNxDomain;
      return set;
    default:
      set.status = Status::kServFail;
      return set;
  }
  for (size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(answer, i);
    if (ldns_rr_get_type(rr) == type && same_name(ldns_rr_owner(rr), owner)) set.records.push_back(rr);
  }
  set.status = set.records.empty() ? Status::kNoData : Status::kOk;
  return set;
}

std::optional<std::string> address_of(const ldns_rr* rr) {
  if (ldns_rr_rd_count(rr) != 1) return std::nullopt;
  const ldns_rdf* rdf = ldns_rr_rdf(rr, 0);
  char text[INET6_ADDRSTRLEN];
  if (ldns_rdf_get_type(rdf) == LDNS_RDF_TYPE_A && ldns_rdf_size(rdf) == 4)
    return inet_ntop(AF_INET, ldns_rdf_data(rdf), text, sizeof text) ? std::optional<std::string>(text) : std::nullopt;
  if (ldns_rdf_get_type(rdf) == LDNS_RDF_TYPE_AAAA && ldns_rdf_size(rdf) == 16)
    return inet_ntop(AF_INET6, ldns_rdf_data(rdf), text, sizeof text) ? std::optional<std::string>(text) : std::nullopt;
  return std::nullopt;
}

std::optional<MxRecord> mx_of(const ldns_rr* rr) {
  if (ldns_rr_rd_count(rr) != 2) return std::nullopt;
  const ldns_rdf* preference = ldns_rr_rdf(rr, 0);
  const ldns_rdf* exchange = ldns_rr_rdf(rr, 1);
  if (ldns_rdf_get_type(preference) != LDNS_RDF_TYPE_INT16 || ldns_rdf_get_type(exchange) != LDNS_RDF_TYPE_DNAME)
    return std::nullopt;
  return MxRecord{ldns_rdf2native_int16(preference), name_text(exchange)};
}

std::optional<std::string> txt_of(const ldns_rr* rr) {
  std::string joined;
  for (size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
    const ldns_rdf* rdf = ldns_rr_rdf(rr, i);
    const uint8_t* data = ldns_rdf_data(rdf);
    size_t size = ldns_rdf_size(rdf);
    // Each character-string is a length byte and that many bytes.
    if (ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_STR || size == 0 || data[0] != size - 1) return std::nullopt;
    joined.append(reinterpret_cast<const char*>(data) + 1, size - 1);
  }
  return joined;
}

std::optional<std::string> target_of(const ldns_rr* rr) {
  if (ldns_rr_rd_count(rr) != 1 || ldns_rdf_get_type(ldns_rr_rdf(rr, 0)) != LDNS_RDF_TYPE_DNAME) return std::nullopt;
  return name_text(ldns_rr_rdf(rr, 0));
}

std::optional<TlsaRecord> tlsa_of(const ldns_rr* rr) {
  if (ldns_rr_rd_count(rr) != 4) return std::nullopt;
  TlsaRecord tlsa;
  uint8_t* fields[] = {&tlsa.usage, &tlsa.selector, &tlsa.matching};
  for (size_t i = 0; i < 3; ++i) {
    const ldns_rdf* rdf = ldns_rr_rdf(rr, i);
    if (ldns_rdf_size(rdf) != 1) return std::nullopt;
    *fields[i] = ldns_rdf2native_int8(rdf);
  }
  const ldns_rdf* data = ldns_rr_rdf(rr, 3);
  tlsa.data.assign(reinterpret_cast<const char*>(ldns_rdf_data(data)), ldns_rdf_size(data));
  return tlsa;
}

}  // namespace relay::dns
