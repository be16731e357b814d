// SPDX-License-Identifier: BSD-2-Clause
//
// The ESP/IKE proxy's entry in the built-in handler registry: IKE on UDP
// 500 and NAT-T on UDP 4500.  ESP itself is not a chain entry (esp.hpp says
// why).  Priority 110: after the application-level gateways, which never
// claim these ports anyway.
#include "../handler.hpp"

namespace nalias {

namespace ipsec_detail {
int ike_fingerprint_out(struct libalias*, struct alias_data*);
int ike_fingerprint_in(struct libalias*, struct alias_data*);
int ike_out(struct libalias*, struct ip*, struct alias_data*);
int ike_in(struct libalias*, struct ip*, struct alias_data*);
int natt_fingerprint_out(struct libalias*, struct alias_data*);
int natt_fingerprint_in(struct libalias*, struct alias_data*);
int natt_out(struct libalias*, struct ip*, struct alias_data*);
int natt_in(struct libalias*, struct ip*, struct alias_data*);
}  // namespace ipsec_detail

namespace {

using namespace ipsec_detail;

struct proto_handler ipsec_handlers[] = {
    {.pri = 110, .dir = OUT, .proto = UDP, .fingerprint = &ike_fingerprint_out, .protohandler = &ike_out, .link = {}},
    {.pri = 110, .dir = IN, .proto = UDP, .fingerprint = &ike_fingerprint_in, .protohandler = &ike_in, .link = {}},
    {.pri = 111, .dir = OUT, .proto = UDP, .fingerprint = &natt_fingerprint_out, .protohandler = &natt_out, .link = {}},
    {.pri = 111, .dir = IN, .proto = UDP, .fingerprint = &natt_fingerprint_in, .protohandler = &natt_in, .link = {}},
    {.pri = 0, .dir = NODIR, .proto = 0, .fingerprint = nullptr, .protohandler = nullptr, .link = {}},  // EOH
};

constexpr uint16_t ipsec_ports[] = {500, 4500, 0};

}  // namespace

extern const BuiltinHandlerSet kIpsecHandlerSet;
const BuiltinHandlerSet kIpsecHandlerSet{"ipsec", ipsec_handlers, ipsec_ports};

}  // namespace nalias
