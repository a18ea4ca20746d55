// AUTH pieces of smtp-listen: SASL PLAIN and the password file.
#include <crypt.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "auth.hpp"
#include "relay/exit_codes.hpp"

namespace smtp_listen {
namespace {

std::string write_file(const std::string& text, mode_t mode) {
  char path[] = "/tmp/smtp-listen-auth.XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  chmod(path, mode);
  return path;
}

std::string hash(const char* password, const char* prefix) {
  crypt_data data{};
  const char* salt = crypt_gensalt_rn(prefix, 0, nullptr, 0, data.setting, sizeof data.setting);
  return crypt_r(password, salt, &data);
}

TEST(Sasl, Plain) {
  auto plain = parse_sasl_plain(std::string("\0alice\0secret", 13));
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->user, "alice");
  EXPECT_EQ(plain->password, "secret");
  EXPECT_TRUE(parse_sasl_plain(std::string("alice\0alice\0x", 13)));
  EXPECT_FALSE(parse_sasl_plain(std::string("bob\0alice\0x", 11)));  // acting for someone else
  EXPECT_FALSE(parse_sasl_plain(std::string("\0\0x", 3)));
  EXPECT_FALSE(parse_sasl_plain("no separators"));
}

TEST(AuthFile, VerifiesYescryptAndSha512) {
  std::string path = write_file("# users\nalice:" + hash("pw-a", "$y$") + "\nbob:" + hash("pw b", "$6$") +
                                    ":extra:fields\n",
                                0600);
  auto file = AuthFile::load(path);
  EXPECT_EQ(file->size(), 2u);
  EXPECT_TRUE(file->verify("alice", "pw-a"));
  EXPECT_TRUE(file->verify("bob", "pw b"));
  EXPECT_FALSE(file->verify("alice", "pw b"));
  EXPECT_FALSE(file->verify("carol", "pw-a"));
  EXPECT_FALSE(file->verify("alice", std::string("pw-a\0x", 6)));
  unlink(path.c_str());
}

TEST(AuthFile, RefusesOpenModesAndBadLines) {
  std::string open = write_file("alice:" + hash("x", "$6$") + "\n", 0640);
  try {
    AuthFile::load(open);
    ADD_FAILURE() << "group-readable file accepted";
  } catch (const relay::Failure& e) {
    EXPECT_EQ(e.code(), relay::kExitPermission);
  }
  unlink(open.c_str());
  std::string plain = write_file("alice:plaintext\n", 0600);
  try {
    AuthFile::load(plain);
    ADD_FAILURE() << "plaintext password accepted";
  } catch (const relay::Failure& e) {
    EXPECT_EQ(e.code(), relay::kExitConfig);
    EXPECT_NE(std::string(e.what()).find("line 1"), std::string::npos);
  }
  unlink(plain.c_str());
}

}  // namespace
}  // namespace smtp_listen
