#include "dns_cache.hpp"

#include "relay/headers.hpp"

namespace mxdeliver {
namespace {

template <typename T, typename Ask>
relay::dns::Answer<T> lookup(DnsCache& cache, DnsCache::Table<T>& table, std::string_view name, Ask ask) {
  const std::string key = relay::to_lower(name);
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(cache.mutex);
    auto it = table.find(key);
    if (it != table.end() && it->second.second > now) return it->second.first;
  }
  relay::dns::Answer<T> answer = ask();
  if (!relay::dns::is_temporary(answer.status)) {
    std::lock_guard lock(cache.mutex);
    table[key] = {answer, now + cache.lifetime()};
  }
  return answer;
}

}  // namespace

relay::dns::Answer<std::string> CachedResolver::a(std::string_view name) {
  return lookup(cache_, cache_.a, name, [&] { return inner_.a(name); });
}

relay::dns::Answer<std::string> CachedResolver::aaaa(std::string_view name) {
  return lookup(cache_, cache_.aaaa, name, [&] { return inner_.aaaa(name); });
}

relay::dns::Answer<relay::dns::MxRecord> CachedResolver::mx(std::string_view name) {
  return lookup(cache_, cache_.mx, name, [&] { return inner_.mx(name); });
}

}  // namespace mxdeliver
