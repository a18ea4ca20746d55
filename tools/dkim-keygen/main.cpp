// dkim-keygen: makes a DKIM key pair (the private key written 0600) and prints the DNS TXT
// record of its public half in zone-file form; --print prints it for an existing key.
#include <fcntl.h>
#include <unistd.h>
#include <openssl/pem.h>

#include <cerrno>
#include <cstdio>
#include <fmt/format.h>

#include "relay/cli.hpp"
#include "relay/dkim_key.hpp"
#include "relay/exit_codes.hpp"
#include "relay/headers.hpp"
#include "relay/json.hpp"
#include "zone_record.hpp"

namespace {

using relay::dkim::KeyType;
using relay::dkim::PrivateKey;

PrivateKey generate(KeyType type, unsigned bits) {
  EVP_PKEY* raw = type == KeyType::kRsa ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits))
                                        : EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!raw) throw relay::Failure(relay::kExitTemporary, "unable to generate key: OpenSSL error");
  return {relay::dkim::PkeyPtr(raw, relay::dkim::PkeyDeleter{}), type, type == KeyType::kRsa ? bits : 256, ""};
}

// Created with O_EXCL and mode 0600 from the start: the key is never readable by others,
// and an existing key (perhaps still published) is never overwritten.
void write_private_key(const PrivateKey& key, const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST)
      throw relay::Failure(relay::kExitConfig, "unable to create " + path + ": it exists (use --print for its record)");
    relay::fail_errno("unable to create " + path, errno);
  }
  FILE* file = ::fdopen(fd, "w");
  bool ok = file && PEM_write_PrivateKey(file, key.pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1 &&
            std::fflush(file) == 0 && ::fsync(fd) == 0;
  int err = errno;
  if (file ? std::fclose(file) != 0 : ::close(fd) != 0) ok = false;
  if (!ok) {
    ::unlink(path.c_str());
    relay::fail_errno("unable to write " + path, err ? err : EIO);
  }
}

}  // namespace

int main(int argc, char** argv) {
  relay::Tool tool("dkim-keygen", "Make a DKIM key pair and print its DNS TXT record.");
  tool.add_json();
  std::string domain, selector, key_path, type = "rsa";
  unsigned bits = 2048;
  bool print_only = false, subdomains = false, testing = false;
  auto& app = tool.app();
  app.add_option("--domain,-d", domain, "signing domain (d=) the record is published under")->required();
  app.add_option("--selector,-s", selector, "selector (s=)")->required();
  app.add_option("--key,-k", key_path, "private key file: created (mode 0600), or read with --print")->required();
  app.add_option("--type,-t", type, "key type: rsa or ed25519")->check(CLI::IsMember({"rsa", "ed25519"}));
  app.add_option("--bits,-b", bits, "RSA modulus size, 1024 to 4096 (default 2048)")->check(CLI::Range(1024u, 4096u));
  app.add_flag("--print,-p", print_only, "do not generate: print the record of the existing --key");
  app.add_flag("--subdomains", subdomains, "let the key sign for subdomains of --domain (omit t=s)");
  app.add_flag("--testing", testing, "mark the key as in testing (t=y): verifiers treat failures leniently");

  return tool.run(argc, argv, [&]() -> int {
    std::string owner = fmt::format("{}._domainkey.{}", relay::to_lower(selector), relay::to_lower(domain));
    PrivateKey key = print_only ? relay::dkim::load_private_key(key_path)
                                : generate(type == "rsa" ? KeyType::kRsa : KeyType::kEd25519, bits);
    if (!print_only) write_private_key(key, key_path);
    std::string flags = testing ? (subdomains ? "y" : "y:s") : (subdomains ? "" : "s");
    std::string record = relay::dkim::public_key_record(key, flags);
    std::string out = tool.json() ? relay::JsonObject()
                                        .add("name", owner)
                                        .add("type", std::string(relay::dkim::key_type_name(key.type)))
                                        .add("bits", static_cast<int64_t>(key.bits))
                                        .add("key", key_path)
                                        .add("record", record)
                                        .str() + "\n"
                                  : relay::dkim::zone_txt_record(owner, record);
    relay::write_all(STDOUT_FILENO, out, "standard output");
    return relay::kExitOk;
  });
}
