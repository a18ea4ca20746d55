// relay-policy init and purge: creating the store and keeping it small.
#include <cctype>
#include <charconv>
#include <cstring>

#include "commands.hpp"
#include "relay/exit_codes.hpp"
#include "relay/log.hpp"
#include "relay/policy_store.hpp"

namespace relay_policy {

std::shared_ptr<relay::policy::LmdbStore> open_store(const Common& common) {
  try {
    return relay::policy::LmdbStore::open(common.store_dir());
  } catch (const relay::policy::StoreError& e) {
    throw relay::Failure(relay::kExitTemporary, std::string("unable to open the store: ") + e.what());
  }
}

// "256M", "4G", "1048576": bytes with an optional K, M or G (powers of 1024).
uint64_t parse_size(const std::string& text) {
  uint64_t scale = 1;
  std::string digits = text;
  if (!digits.empty() && std::strchr("KkMmGg", digits.back())) {
    char unit = static_cast<char>(std::toupper(static_cast<unsigned char>(digits.back())));
    scale = unit == 'K' ? 1ull << 10 : unit == 'M' ? 1ull << 20 : 1ull << 30;
    digits.pop_back();
  }
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() || n > (1ull << 46) / scale ||
      n * scale < relay::policy::kMinStoreSize)
    throw relay::Failure(relay::kExitUsage, "unable to parse --size \"" + text + "\": want 1M or more, as 256M or 4G");
  return n * scale;
}

int run_init(const Common& common, const InitArgs& args) {
  uint64_t size = parse_size(args.size);
  std::string dir = common.store_dir();
  try {
    relay::policy::LmdbStore::create(dir, args.force, size);
  } catch (const relay::policy::StoreError& e) {
    throw relay::Failure(relay::kExitTemporary, std::string("unable to create the store: ") + e.what());
  }
  return relay::kExitOk;
}

int run_purge(const relay::Tool& tool, const Common& common) {
  auto store = open_store(common);
  try {
    auto [counters, suppressions] = store->purge(tool.clock().seconds());
    relay::log::info("purged " + std::to_string(counters) + " idle counters and " + std::to_string(suppressions) +
                     " expired suppressions");
  } catch (const relay::policy::StoreError& e) {
    throw relay::Failure(relay::kExitTemporary, std::string("unable to purge the store: ") + e.what());
  }
  return relay::kExitOk;
}

}  // namespace relay_policy
