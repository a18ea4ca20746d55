// The tracing decorator: times each query and keeps its answer as text.
#include "relay/dns_trace.hpp"

#include <fmt/format.h>

namespace relay::dns {

template <typename T, typename Lookup, typename Format>
Answer<T> TracingResolver::record(std::string_view type, std::string_view name, Lookup lookup, Format format) {
  auto start = std::chrono::steady_clock::now();
  Answer<T> answer = lookup();
  std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
  TraceEntry entry{std::string(type), std::string(name), answer.status, {}, answer.cname_chain, elapsed.count()};
  for (const T& value : answer.records) entry.records.push_back(format(value));
  entries_.push_back(std::move(entry));
  return answer;
}

namespace {
std::string same(const std::string& text) { return text; }
}  // namespace

Answer<std::string> TracingResolver::a(std::string_view name) {
  return record<std::string>("A", name, [&] { return inner_.a(name); }, same);
}
Answer<std::string> TracingResolver::aaaa(std::string_view name) {
  return record<std::string>("AAAA", name, [&] { return inner_.aaaa(name); }, same);
}
Answer<std::string> TracingResolver::txt(std::string_view name) {
  return record<std::string>("TXT", name, [&] { return inner_.txt(name); }, same);
}
Answer<std::string> TracingResolver::ptr(std::string_view address) {
  return record<std::string>("PTR", address, [&] { return inner_.ptr(address); }, same);
}
Answer<MxRecord> TracingResolver::mx(std::string_view name) {
  return record<MxRecord>("MX", name, [&] { return inner_.mx(name); },
                          [](const MxRecord& mx) { return fmt::format("{} {}", mx.preference, mx.exchange.empty() ? "." : mx.exchange); });
}
Answer<TlsaRecord> TracingResolver::tlsa(std::string_view name) {
  return record<TlsaRecord>("TLSA", name, [&] { return inner_.tlsa(name); }, [](const TlsaRecord& t) {
    std::string hex;
    for (unsigned char c : t.data) hex += fmt::format("{:02x}", c);
    return fmt::format("{} {} {} {}", t.usage, t.selector, t.matching, hex);
  });
}

}  // namespace relay::dns
