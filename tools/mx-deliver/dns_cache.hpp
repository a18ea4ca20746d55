#pragma once
// A run-long memory of DNS answers shared by the delivery threads, so ten thousand messages
// to one domain ask for its MX and addresses once a minute rather than once a message.
// Temporary failures are not remembered: the next message asks again.
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "relay/dns.hpp"

namespace mxdeliver {

class DnsCache {
 public:
  explicit DnsCache(std::chrono::seconds lifetime) : lifetime_(lifetime) {}

  template <typename T>
  using Table = std::map<std::string, std::pair<relay::dns::Answer<T>, std::chrono::steady_clock::time_point>>;

  Table<std::string> a, aaaa;
  Table<relay::dns::MxRecord> mx;
  std::mutex mutex;
  std::chrono::seconds lifetime() const { return lifetime_; }

 private:
  std::chrono::seconds lifetime_;
};

// One thread's resolver (ldns handles are not shared), answering from the cache first.
class CachedResolver : public relay::dns::Resolver {
 public:
  CachedResolver(relay::dns::Resolver& inner, DnsCache& cache) : inner_(inner), cache_(cache) {}

  relay::dns::Answer<std::string> a(std::string_view name) override;
  relay::dns::Answer<std::string> aaaa(std::string_view name) override;
  relay::dns::Answer<relay::dns::MxRecord> mx(std::string_view name) override;
  relay::dns::Answer<std::string> txt(std::string_view name) override { return inner_.txt(name); }
  relay::dns::Answer<std::string> ptr(std::string_view address) override { return inner_.ptr(address); }
  relay::dns::Answer<relay::dns::TlsaRecord> tlsa(std::string_view name) override { return inner_.tlsa(name); }
  uint64_t queries() const override { return inner_.queries(); }

 private:
  relay::dns::Resolver& inner_;
  DnsCache& cache_;
};

}  // namespace mxdeliver
