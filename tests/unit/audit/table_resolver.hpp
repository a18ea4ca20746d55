#pragma once
// A Resolver answering from a table, for unit tests of the SPF and DMARC logic.
#include <map>
#include <string>
#include <utility>

#include "relay/dns.hpp"

namespace relay::testing {

class TableResolver : public dns::Resolver {
 public:
  // Names present in any table exist; a name absent from every table is NXDOMAIN.
  std::map<std::string, std::vector<std::string>> a_records, aaaa_records, txt_records, ptr_records;
  std::map<std::string, std::vector<dns::MxRecord>> mx_records;
  std::map<std::string, dns::Status> failures;  // "TXT example.test" -> kTimeout

  dns::Answer<std::string> a(std::string_view name) override { return lookup("A", name, a_records); }
  dns::Answer<std::string> aaaa(std::string_view name) override { return lookup("AAAA", name, aaaa_records); }
  dns::Answer<std::string> txt(std::string_view name) override { return lookup("TXT", name, txt_records); }
  dns::Answer<dns::MxRecord> mx(std::string_view name) override { return lookup("MX", name, mx_records); }
  dns::Answer<std::string> ptr(std::string_view address) override {
    return lookup("PTR", dns::reverse_name(address).value_or(""), ptr_records);
  }
  dns::Answer<dns::TlsaRecord> tlsa(std::string_view) override { return {dns::Status::kNxDomain, {}, {}}; }
  uint64_t queries() const override { return queries_; }

 private:
  bool exists(const std::string& name) const {
    for (const auto* table : {&a_records, &aaaa_records, &txt_records, &ptr_records})
      if (table->count(name)) return true;
    return mx_records.count(name) > 0;
  }

  template <typename T>
  dns::Answer<T> lookup(const std::string& type, std::string_view name, const std::map<std::string, std::vector<T>>& table) {
    ++queries_;
    std::string key(name);
    if (auto failure = failures.find(type + " " + key); failure != failures.end()) return {failure->second, {}, {}};
    auto found = table.find(key);
    if (found != table.end()) return {dns::Status::kOk, found->second, {}};
    return {exists(key) ? dns::Status::kNoData : dns::Status::kNxDomain, {}, {}};
  }

  uint64_t queries_ = 0;
};

}  // namespace relay::testing
