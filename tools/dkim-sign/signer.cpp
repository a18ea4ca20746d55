#include "signer.hpp"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include <fmt/format.h>
#include <algorithm>
#include <map>
#include <memory>

#include "relay/base64.hpp"
#include "relay/exit_codes.hpp"

namespace relay::dkim {

namespace {

constexpr size_t kLineWidth = 78;  // RFC 5322 2.1.1's recommended line length

// Builds the folded field: tokens go on the current line while it stays within kLineWidth,
// else on a continuation line. Folding whitespace is allowed between tags and inside the
// h= and b= values, which is where the token boundaries are.
class FieldFolder {
 public:
  FieldFolder(std::string name, std::string line_end) : text_(std::move(name) + ":"), line_end_(std::move(line_end)) {
    column_ = text_.size();
  }
  void add(std::string_view token, bool space_before) {
    size_t width = token.size() + (space_before ? 1 : 0);
    if (column_ + width > kLineWidth && column_ > 8) {
      add_line_break();
    } else if (space_before) {
      text_ += ' ';
    }
    text_ += token;
    column_ += token.size() + (space_before ? 1 : 0);
  }
  // A value that may be split anywhere (base64): fills the current line, then whole lines.
  void add_breakable(std::string_view value) {
    while (!value.empty()) {
      if (column_ >= kLineWidth) add_line_break();
      size_t take = std::min(value.size(), kLineWidth - column_);
      text_ += value.substr(0, take);
      column_ += take;
      value.remove_prefix(take);
    }
  }
  const std::string& text() const { return text_; }

 private:
  void add_line_break() {
    text_ += line_end_ + "\t";
    column_ = 8;
  }
  std::string text_;
  std::string line_end_;
  size_t column_ = 0;
};

// OpenSSL 3 looks an algorithm up by name at each implicit use (SHA256(), EVP_sha256() in
// an init). Fetching once, and using a signing context prepared once per key, keeps those
// lookups out of the per-message cost. The fetched digest is shared by every thread; signing
// contexts are per thread (streaming mode signs on several).
const EVP_MD* sha256() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (!md) throw Failure(kExitTemporary, "unable to fetch SHA-256: OpenSSL error");
  return md;
}

void sha256_digest(const void* data, size_t size, unsigned char* digest) {
  if (EVP_Digest(data, size, digest, nullptr, sha256(), nullptr) != 1)
    throw Failure(kExitTemporary, "unable to hash message: OpenSSL error");
}

std::string sha256_base64(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  sha256_digest(data.data(), data.size(), digest);
  return relay::base64_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;

[[noreturn]] void refused(const PrivateKey& key) {
  throw Failure(kExitTemporary, "unable to sign message: OpenSSL refused the key " + key.path);
}

// rsa-sha256 is RSASSA-PKCS1-v1_5 over the SHA-256 digest of the header data: the digest is
// signed with a context set up once per key and thread and used again for every message, as
// openssl speed does (a copied EVP_DigestSign context costs a few microseconds more per
// signature). Each thread signs with its own copy of the key: an RSA key keeps blinding
// state, which OpenSSL shares between threads only behind a lock.
std::string sign_rsa(const PrivateKey& key, const unsigned char* digest) {
  thread_local std::map<const EVP_PKEY*, PkeyCtxPtr> prepared;
  PkeyCtxPtr& ctx = prepared[key.pkey.get()];
  if (!ctx) {
    std::unique_ptr<EVP_PKEY, PkeyDeleter> own_key(EVP_PKEY_dup(key.pkey.get()));
    if (!own_key) refused(key);
    ctx.reset(EVP_PKEY_CTX_new_from_pkey(nullptr, own_key.get(), nullptr));  // holds its own reference
    if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), sha256()) != 1) {
      ctx.reset();
      refused(key);
    }
  }
  size_t size = 0;
  if (EVP_PKEY_sign(ctx.get(), nullptr, &size, digest, SHA256_DIGEST_LENGTH) != 1) refused(key);
  std::string signature(size, '\0');
  if (EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, digest,
                    SHA256_DIGEST_LENGTH) != 1)
    throw Failure(kExitTemporary, "unable to sign message: OpenSSL signing failed with " + key.path);
  signature.resize(size);
  return signature;
}

// ed25519-sha256 signs the SHA-256 digest with PureEdDSA (RFC 8463 3), which takes no digest
// of its own and needs a fresh one-shot context per signature: copied from one prepared once
// per key and thread.
std::string sign_ed25519(const PrivateKey& key, const unsigned char* digest) {
  thread_local std::map<const EVP_PKEY*, MdCtxPtr> prepared;
  MdCtxPtr& base = prepared[key.pkey.get()];
  if (!base) {
    base.reset(EVP_MD_CTX_new());
    if (!base || EVP_DigestSignInit(base.get(), nullptr, nullptr, nullptr, key.pkey.get()) != 1) {
      base.reset();
      refused(key);
    }
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t size = 0;
  if (!ctx || EVP_MD_CTX_copy_ex(ctx.get(), base.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &size, digest, SHA256_DIGEST_LENGTH) != 1)
    refused(key);
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, digest,
                     SHA256_DIGEST_LENGTH) != 1)
    throw Failure(kExitTemporary, "unable to sign message: OpenSSL signing failed with " + key.path);
  signature.resize(size);
  return signature;
}

// Both algorithms sign the SHA-256 digest of the header data (RFC 6376 3.7, RFC 8463 3).
std::string sign_header_data(const PrivateKey& key, std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  sha256_digest(data.data(), data.size(), digest);
  std::string signature = key.type == KeyType::kEd25519 ? sign_ed25519(key, digest) : sign_rsa(key, digest);
  return relay::base64_encode(signature);
}

}  // namespace

// The body hash, and the h= names with the fields they select: bottom-up per name (RFC 6376
// 5.4.2), a name listed past the last instance signing the field's absence.
PreparedMessage prepare_message(std::string_view message, const HeaderBlock& headers, const SignOptions& options) {
  PreparedMessage prepared;
  prepared.crlf = headers.crlf();
  std::string_view body = message.substr(headers.body_offset());
  auto in_place = canonical_body_in_place(body, options.body_canon);
  prepared.body_hash = in_place ? sha256_base64(*in_place) : sha256_base64(canonical_body(body, options.body_canon));
  // Each field's name is lower-cased once, instead of comparing every field without regard
  // to case for each of the two dozen names of the h= list.
  std::map<std::string, std::vector<const HeaderField*>, std::less<>> fields_by_name;
  for (const auto& field : headers.fields()) fields_by_name[to_lower(field.name)].push_back(&field);
  std::map<std::string, size_t> used;  // per lower-case name: instances taken from the bottom
  auto take = [&](const std::string& name, const std::vector<const HeaderField*>& all) {
    size_t& taken = used[name];
    if (taken < all.size()) {
      const HeaderField* field = all[all.size() - 1 - taken];
      prepared.canonical_headers += canonical_header(field->raw, options.header_canon, true);
    }
    ++taken;
  };
  static const std::vector<const HeaderField*> kNone;
  for (const auto& name : options.headers) {
    auto found = fields_by_name.find(name);
    const auto& all = found == fields_by_name.end() ? kNone : found->second;
    size_t present = all.size();
    bool oversigned = std::find(options.oversign.begin(), options.oversign.end(), name) != options.oversign.end();
    for (size_t i = 0; i < present + (oversigned ? 1 : 0); ++i) {
      take(name, all);
      prepared.names.push_back(name);
    }
  }
  return prepared;
}

std::vector<std::string> default_signed_headers() {
  return {"from",          "reply-to",    "subject",        "date",         "to",
          "cc",            "resent-date", "resent-from",    "resent-to",    "resent-cc",
          "in-reply-to",   "references",  "list-id",        "list-help",    "list-unsubscribe",
          "list-subscribe", "list-post",  "list-owner",     "list-archive", "message-id",
          "mime-version",  "content-type", "content-transfer-encoding", "list-unsubscribe-post"};
}

std::string make_signature(const PreparedMessage& message, const SigningChoice& choice, const SignOptions& options,
                           int64_t now) {
  const PrivateKey& key = choice.key->key;
  const char* line_end = message.crlf ? "\r\n" : "\n";
  FieldFolder field("DKIM-Signature", line_end);
  field.add("v=1;", true);
  field.add(fmt::format("a={};", signing_algorithm(key.type)), true);
  field.add(fmt::format("c={}/{};", to_string(options.header_canon), to_string(options.body_canon)), true);
  field.add(fmt::format("d={};", choice.domain), true);
  field.add(fmt::format("s={};", choice.key->selector), true);
  field.add(fmt::format("t={};", now), true);
  if (options.lifetime) field.add(fmt::format("x={};", now + *options.lifetime), true);
  for (size_t i = 0; i < message.names.size(); ++i) {
    bool last = i + 1 == message.names.size();
    field.add(fmt::format("{}{}{}", i == 0 ? "h=" : "", message.names[i], last ? ";" : ":"), i == 0);
  }
  field.add(fmt::format("bh={};", message.body_hash), true);
  field.add("b=", true);

  // 3.7: the header hash ends with this field, b= empty, without its final line end.
  std::string header_data = message.canonical_headers + canonical_header(field.text(), options.header_canon, false);
  field.add_breakable(sign_header_data(key, header_data));
  return field.text() + line_end;
}

}  // namespace relay::dkim
