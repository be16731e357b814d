// SPDX-License-Identifier: BSD-2-Clause
// NAT-T (RFC 3947/3948): several clients to one peer on UDP 4500, each
// through its own alias port, payload untouched, links that outlive the
// 60 s UDP default.
#include "40_ipsec_packets.hpp"

using namespace ipsec_test;

namespace {

struct Tally {
    int natt_links = 0;
    unsigned timeout = 0;
};

int tally_natt(const alias_link_info* l, void* ctx) {
    auto* t = static_cast<Tally*>(ctx);
    if (l->proto == IPPROTO_UDP && ntohs(l->dst_port) == kNatt) {
        ++t->natt_links;
        t->timeout = l->timeout;
    }
    return 0;
}

}  // namespace

TEST_CASE("NAT-T: three clients to one peer through distinct alias ports", "[ipsec]") {
    const unsigned mode = GENERATE(unsigned{PKT_ALIAS_SAME_PORTS}, 0u);
    Nat nat(masq, mode, PKT_ALIAS_SAME_PORTS);
    FakeClock clock;
    clock.attach(nat.la);
    const in_addr hosts[3] = {prv1, prv2, prv3};
    uint16_t alias_port[3] = {};

    for (int i = 0; i < 3; ++i) {
        const Client c{hosts[i], 0x7000u + static_cast<uint64_t>(i), 0x8000u + static_cast<uint64_t>(i), 0, 0};
        // IKE_SA_INIT on 500 detects the NAT; the client then floats to 4500.
        send_ike(nat, c, ext, kIkeSaInit, false, kIkeV2);
        receive_ike(nat, c, ext, kIkeSaInit, kIkeV2);

        Packet o = natt_ike_packet(hosts[i], kNatt, ext, kNatt, c.ike_spi_i, c.ike_spi_r, kIkeAuth);
        const std::string payload = o.payload();
        REQUIRE(nat.out(o) == PKT_ALIAS_OK);
        CHECK(same(o.src(), masq));
        CHECK(o.payload() == payload);
        CHECK(checksums_ok(o));
        alias_port[i] = o.sport();
    }
    // The first client keeps its port even without SAME_PORTS; the others
    // cannot, and every client has its own.
    CHECK(alias_port[0] == kNatt);
    CHECK(alias_port[1] != alias_port[0]);
    CHECK(alias_port[2] != alias_port[0]);
    CHECK(alias_port[1] != alias_port[2]);

    for (int round = 0; round < 2; ++round) {
        for (int i = 2; i >= 0; --i) {
            // IKE behind the non-ESP marker, then UDP-encapsulated ESP.
            Packet ike = natt_ike_packet(ext, kNatt, masq, alias_port[i], 0x7000u + static_cast<uint64_t>(i),
                                         0x8000u + static_cast<uint64_t>(i), kInfoV2);
            const std::string ike_payload = ike.payload();
            REQUIRE(nat.in(ike) == PKT_ALIAS_OK);
            CHECK(str(ike.dst()) == str(hosts[i]));
            CHECK(ike.dport() == kNatt);
            CHECK(ike.payload() == ike_payload);
            CHECK(checksums_ok(ike));

            Packet esp_out = udp_packet(hosts[i], kNatt, ext, kNatt, esp_body(0x900 + i, 1 + round));
            const std::string out_payload = esp_out.payload();
            REQUIRE(nat.out(esp_out) == PKT_ALIAS_OK);
            CHECK(esp_out.sport() == alias_port[i]);
            CHECK(esp_out.payload() == out_payload);
            CHECK(checksums_ok(esp_out));

            Packet esp_in = udp_packet(ext, kNatt, masq, alias_port[i], esp_body(0xa00 + i, 1 + round));
            const std::string in_payload = esp_in.payload();
            REQUIRE(nat.in(esp_in) == PKT_ALIAS_OK);
            CHECK(str(esp_in.dst()) == str(hosts[i]));
            CHECK(esp_in.dport() == kNatt);
            CHECK(esp_in.payload() == in_payload);
            CHECK(checksums_ok(esp_in));
        }
    }

    Tally t;
    LibAliasForEachLink(nat.la, &tally_natt, &t);
    CHECK(t.natt_links == 3);
    CHECK(t.timeout == 300);

    // Keep-alives every 20 s (RFC 3948 4) are single 0xff bytes, passed as is.
    for (int k = 0; k < 10; ++k) {
        clock.now += 20;
        Packet ka = udp_packet(prv2, kNatt, ext, kNatt, std::string(1, '\xff'));
        REQUIRE(nat.out(ka) == PKT_ALIAS_OK);
        CHECK(ka.sport() == alias_port[1]);
        CHECK(ka.payload() == std::string(1, '\xff'));
        CHECK(checksums_ok(ka));
    }
    // 200 s later: clients 0 and 2 sent nothing, yet outlive the 60 s UDP
    // default; client 1 was kept alive.
    for (int i = 0; i < 3; ++i) {
        Packet in = udp_packet(ext, kNatt, masq, alias_port[i], esp_body(0xa00 + i, 9));
        REQUIRE(nat.in(in) == PKT_ALIAS_OK);
        CHECK(str(in.dst()) == str(hosts[i]));
    }
    // After the NAT-T lifetime of silence, the mapping is gone.
    clock.now += 301;
    Packet late = udp_packet(ext, kNatt, masq, alias_port[1], esp_body(0xa01, 10));
    nat.in(late);
    CHECK(same(late.dst(), masq));
}
