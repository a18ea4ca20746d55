#pragma once
// Shared setup of the policy unit tests: a private directory with a policy file and a store.
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "relay/policy.hpp"
#include "relay/policy_store.hpp"

namespace policy_test {

inline constexpr uint64_t kStoreSize = uint64_t{4} << 20;  // small: every test reserves it on disk

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/unit-policy.XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

  // Writes a policy file naming this directory's store, and creates the store.
  std::string policy(const std::string& body, bool create_store = true) const {
    std::string file = path_ + "/policy.conf";
    std::ofstream(file) << "store = " << store() << "\n" << body;
    if (create_store) relay::policy::LmdbStore::create(store(), false, kStoreSize);
    return file;
  }
  std::string store() const { return path_ + "/store"; }

 private:
  std::string path_;
};

inline relay::policy::Request data_request(std::string user, std::string sender, std::string from_domain,
                                           std::vector<std::string> recipients) {
  relay::policy::Request r;
  r.stage = relay::policy::Stage::kData;
  r.user = std::move(user);
  r.sender = std::move(sender);
  r.from_domain = std::move(from_domain);
  r.recipients = std::move(recipients);
  r.size = 1000;
  return r;
}

}  // namespace policy_test
