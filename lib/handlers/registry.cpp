// SPDX-License-Identifier: BSD-2-Clause
//
// The built-in protocol handlers: one line per handler file.  Adding a
// handler = one file under lib/handlers/, one line here, one test file.
#include "../handler.hpp"

namespace nalias {

extern const BuiltinHandlerSet kFtpHandlerSet;   // ftp.cpp
extern const BuiltinHandlerSet kIrcHandlerSet;   // irc.cpp
extern const BuiltinHandlerSet kRtspHandlerSet;  // rtsp.cpp
extern const BuiltinHandlerSet kTftpHandlerSet;  // tftp.cpp
extern const BuiltinHandlerSet kIpsecHandlerSet;  // ../ipsec/module.cpp
extern const BuiltinHandlerSet kPptpHandlerSet;     // pptp.cpp
extern const BuiltinHandlerSet kNbtHandlerSet;      // nbt.cpp
extern const BuiltinHandlerSet kSkinnyHandlerSet;   // skinny.cpp
extern const BuiltinHandlerSet kCuSeeMeHandlerSet;  // cuseeme.cpp

const BuiltinHandlerSet* const kBuiltinHandlerSets[] = {
    &kFtpHandlerSet,
    &kIrcHandlerSet,
    &kRtspHandlerSet,
    &kTftpHandlerSet,
    &kIpsecHandlerSet,
    &kPptpHandlerSet,
    &kNbtHandlerSet,
    &kSkinnyHandlerSet,
    &kCuSeeMeHandlerSet,
    nullptr,
};
// The trailing nullptr is a terminator, not a set.
const std::size_t kBuiltinHandlerSetCount = sizeof kBuiltinHandlerSets / sizeof kBuiltinHandlerSets[0] - 1;

}  // namespace nalias
