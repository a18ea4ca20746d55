// Decoding of response packets built in memory: rcodes, CNAME chains, rdata of each type.
#include <gtest/gtest.h>

#include "relay/dns_packet.hpp"
#include "relay/exit_codes.hpp"

namespace relay::dns {
namespace {

class Packet {
 public:
  explicit Packet(ldns_pkt_rcode rcode = LDNS_RCODE_NOERROR) : packet_(ldns_pkt_new()) {
    ldns_pkt_set_rcode(packet_, rcode);
  }
  ~Packet() { ldns_pkt_free(packet_); }
  Packet& add(const char* text) {
    ldns_rr* rr = nullptr;
    EXPECT_EQ(ldns_rr_new_frm_str(&rr, text, 300, nullptr, nullptr), LDNS_STATUS_OK) << text;
    ldns_pkt_push_rr(packet_, LDNS_SECTION_ANSWER, rr);
    return *this;
  }
  const ldns_pkt* get() const { return packet_; }

 private:
  ldns_pkt* packet_;
};

struct Name {
  explicit Name(const char* text) : rdf(ldns_dname_new_frm_str(text)) {}
  ~Name() { ldns_rdf_deep_free(rdf); }
  ldns_rdf* rdf;
};

TEST(DnsPacket, RcodesMapToStatus) {
  Name q("a.test.");
  EXPECT_EQ(select_records(Packet(LDNS_RCODE_NXDOMAIN).get(), q.rdf, LDNS_RR_TYPE_A).status, Status::kNxDomain);
  EXPECT_EQ(select_records(Packet(LDNS_RCODE_SERVFAIL).get(), q.rdf, LDNS_RR_TYPE_A).status, Status::kServFail);
  EXPECT_EQ(select_records(Packet(LDNS_RCODE_REFUSED).get(), q.rdf, LDNS_RR_TYPE_A).status, Status::kServFail);
  EXPECT_EQ(select_records(Packet().get(), q.rdf, LDNS_RR_TYPE_A).status, Status::kNoData);
}

TEST(DnsPacket, OnlyRecordsOfTheAskedTypeAndOwnerCount) {
  Name q("a.test.");
  Packet p;
  p.add("a.test. IN AAAA ::1").add("other.test. IN A 192.0.2.9").add("A.TEST. IN A 192.0.2.1");
  RecordSet set = select_records(p.get(), q.rdf, LDNS_RR_TYPE_A);
  ASSERT_EQ(set.status, Status::kOk);
  ASSERT_EQ(set.records.size(), 1u);
  EXPECT_EQ(address_of(set.records[0]), "192.0.2.1");
  EXPECT_EQ(select_records(p.get(), q.rdf, LDNS_RR_TYPE_MX).status, Status::kNoData);
}

TEST(DnsPacket, FollowsAndRecordsTheCnameChain) {
  Name q("www.test.");
  Packet p;
  p.add("www.test. IN CNAME web.test.").add("web.test. IN CNAME host.test.").add("host.test. IN AAAA 2001:db8::1");
  RecordSet set = select_records(p.get(), q.rdf, LDNS_RR_TYPE_AAAA);
  ASSERT_EQ(set.status, Status::kOk);
  EXPECT_EQ(set.cname_chain, (std::vector<std::string>{"web.test", "host.test"}));
  EXPECT_EQ(address_of(set.records.at(0)), "2001:db8::1");
}

TEST(DnsPacket, CnameToNonexistentNameIsNxDomainWithChain) {
  Name q("www.test.");
  Packet p(LDNS_RCODE_NXDOMAIN);
  p.add("www.test. IN CNAME gone.test.");
  RecordSet set = select_records(p.get(), q.rdf, LDNS_RR_TYPE_A);
  EXPECT_EQ(set.status, Status::kNxDomain);
  EXPECT_EQ(set.cname_chain, std::vector<std::string>{"gone.test"});
}

TEST(DnsPacket, CnameLoopIsMalformed) {
  Name q("a.test.");
  Packet p;
  p.add("a.test. IN CNAME b.test.").add("b.test. IN CNAME a.test.");
  EXPECT_EQ(select_records(p.get(), q.rdf, LDNS_RR_TYPE_A).status, Status::kMalformed);
}

TEST(DnsPacket, TxtStringsAreJoinedWithoutSeparator) {
  Name q("t.test.");
  Packet p;
  p.add("t.test. IN TXT \"v=spf1 ip4:192.0.2.0/24\" \" -all\"").add("t.test. IN TXT \"\"");
  RecordSet set = select_records(p.get(), q.rdf, LDNS_RR_TYPE_TXT);
  ASSERT_EQ(set.records.size(), 2u);
  EXPECT_EQ(txt_of(set.records[0]), "v=spf1 ip4:192.0.2.0/24 -all");
  EXPECT_EQ(txt_of(set.records[1]), "");
}

TEST(DnsPacket, MxAndNullMx) {
  Name q("m.test.");
  Packet p;
  p.add("m.test. IN MX 10 mx1.m.test.").add("m.test. IN MX 0 .");
  RecordSet set = select_records(p.get(), q.rdf, LDNS_RR_TYPE_MX);
  ASSERT_EQ(set.records.size(), 2u);
  auto first = mx_of(set.records[0]);
  auto null_mx = mx_of(set.records[1]);
  ASSERT_TRUE(first && null_mx);
  EXPECT_EQ(first->preference, 10);
  EXPECT_EQ(first->exchange, "mx1.m.test");
  EXPECT_EQ(null_mx->preference, 0);
  EXPECT_EQ(null_mx->exchange, "");
}

TEST(DnsPacket, PtrAndTlsa) {
  Name q("x.test.");
  Packet p;
  p.add("x.test. IN PTR host.example.");
  p.add("x.test. IN TLSA 3 1 1 00ff10");
  EXPECT_EQ(target_of(select_records(p.get(), q.rdf, LDNS_RR_TYPE_PTR).records.at(0)), "host.example");
  auto tlsa = tlsa_of(select_records(p.get(), q.rdf, LDNS_RR_TYPE_TLSA).records.at(0));
  ASSERT_TRUE(tlsa);
  EXPECT_EQ(tlsa->usage, 3);
  EXPECT_EQ(tlsa->selector, 1);
  EXPECT_EQ(tlsa->matching, 1);
  EXPECT_EQ(tlsa->data, std::string("\x00\xff\x10", 3));
}

TEST(DnsPacket, WrongRdataShapeIsRejected) {
  Packet p;
  p.add("x.test. IN A 192.0.2.1");
  const ldns_rr* a = ldns_rr_list_rr(ldns_pkt_answer(p.get()), 0);
  EXPECT_FALSE(mx_of(a));
  EXPECT_FALSE(txt_of(a));
  EXPECT_FALSE(target_of(a));
}

TEST(DnsReverse, Ipv4AndIpv6Names) {
  EXPECT_EQ(reverse_name("192.0.2.10"), "10.2.0.192.in-addr.arpa");
  EXPECT_EQ(reverse_name("2001:db8::1"),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  EXPECT_FALSE(reverse_name("example.test"));
  EXPECT_FALSE(reverse_name("192.0.2"));
}

TEST(DnsResolver, BadServerStringsAreUsageErrors) {
  for (const char* server : {"example.test", "127.0.0.1:0", "127.0.0.1:70000", "[::1", "[::1]x", "1.2.3.4:"}) {
    try {
      make_resolver({.server = server});
      ADD_FAILURE() << server;
    } catch (const Failure& failure) {
      EXPECT_EQ(failure.code(), kExitUsage) << server;
    }
  }
  EXPECT_NO_THROW(make_resolver({.server = "[::1]:5353"}));
  EXPECT_NO_THROW(make_resolver({.server = "::1"}));
  EXPECT_NO_THROW(make_resolver({.server = "127.0.0.1:15353"}));
}

TEST(DnsResolver, InvalidNamesAreMalformedWithoutAQuery) {
  auto resolver = make_resolver({.server = "127.0.0.1:9"});
  EXPECT_EQ(resolver->a("a..test").status, Status::kMalformed);
  EXPECT_EQ(resolver->a(std::string(64, 'x') + ".test").status, Status::kMalformed);
  EXPECT_EQ(resolver->txt("").status, Status::kMalformed);
  EXPECT_EQ(resolver->ptr("not-an-ip").status, Status::kMalformed);
  EXPECT_EQ(resolver->queries(), 0u);
}

}  // namespace
}  // namespace relay::dns
