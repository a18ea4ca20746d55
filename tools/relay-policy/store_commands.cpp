// relay-policy init and purge: creating the store and keeping it small.
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

int run_init(const Common& common, bool force) {
  std::string dir = common.store_dir();
  try {
    relay::policy::LmdbStore::create(dir, force);
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
