#pragma once
// A Resolver that records every query another Resolver answers: spf-check --trace,
// dmarc-check and mail-audit show which lookups decided a verdict.
#include <chrono>
#include <string>
#include <vector>

#include "relay/dns.hpp"

namespace relay::dns {

struct TraceEntry {
  std::string type;  // "A", "AAAA", "MX", "TXT", "PTR", "TLSA"
  std::string name;  // as asked (PTR: the address)
  Status status = Status::kServFail;
  std::vector<std::string> records;  // as text: "10 mx.example", TXT joined, TLSA hex
  std::vector<std::string> cname_chain;
  double milliseconds = 0;
};

class TracingResolver final : public Resolver {
 public:
  explicit TracingResolver(Resolver& inner) : inner_(inner) {}

  Answer<std::string> a(std::string_view name) override;
  Answer<std::string> aaaa(std::string_view name) override;
  Answer<MxRecord> mx(std::string_view name) override;
  Answer<std::string> txt(std::string_view name) override;
  Answer<std::string> ptr(std::string_view address) override;
  Answer<TlsaRecord> tlsa(std::string_view name) override;
  uint64_t queries() const override { return inner_.queries(); }

  const std::vector<TraceEntry>& entries() const { return entries_; }

 private:
  template <typename T, typename Lookup, typename Format>
  Answer<T> record(std::string_view type, std::string_view name, Lookup lookup, Format format);

  Resolver& inner_;
  std::vector<TraceEntry> entries_;
};

}  // namespace relay::dns
