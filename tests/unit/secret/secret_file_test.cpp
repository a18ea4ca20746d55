#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "relay/exit_codes.hpp"
#include "relay/secret_file.hpp"

using namespace relay;

namespace {

class SecretFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "relay-secret.XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    path_ = dir_ + "/secret";
    std::ofstream(path_) << "user:$6$salt$hash\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  int code_for_mode(mode_t mode) {
    chmod(path_.c_str(), mode);
    try {
      read_secret_file(path_, "test file");
      return kExitOk;
    } catch (const Failure& e) {
      return e.code();
    }
  }
  std::string dir_, path_;
};

}  // namespace

TEST_F(SecretFileTest, ReadsAnOwnerOnlyFile) {
  chmod(path_.c_str(), 0600);
  EXPECT_EQ(read_secret_file(path_, "test file"), "user:$6$salt$hash\n");
  EXPECT_EQ(code_for_mode(0400), kExitOk);
}

TEST_F(SecretFileTest, RefusesAnyAccessByGroupOrOthers) {
  for (mode_t mode : {0640, 0604, 0620, 0602, 0610, 0601, 0644})
    EXPECT_EQ(code_for_mode(mode), kExitPermission) << std::oct << mode;
}

TEST_F(SecretFileTest, RefusesDirectoriesAndOversizedFiles) {
  chmod(dir_.c_str(), 0700);
  try {
    read_secret_file(dir_, "test file");
    FAIL();
  } catch (const Failure& e) {
    EXPECT_EQ(e.code(), kExitConfig);
  }
  chmod(path_.c_str(), 0600);
  EXPECT_THROW(read_secret_file(path_, "test file", 4), Failure);
  EXPECT_THROW(read_secret_file(dir_ + "/missing", "test file"), Failure);
}
