// SPDX-License-Identifier: BSD-2-Clause
//
// link_layer.hpp: where the IPv4 header starts in a captured frame, and what
// the frame says about its direction.
//
// A LinkLayer is chosen once per capture from its link type (DLT).  For each
// frame it returns a FrameInfo: the offset of the network header, whether
// that header is IPv4, and, for link types that record it, the direction the
// capturing host saw (Linux cooked captures mark outgoing packets).  The
// bytes before `ip_offset` are copied unchanged into the translated capture,
// so a decoder never needs to rewrite them.  Decoders only read inside the
// captured bytes; a frame too short for its header is reported as such.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace replay {

enum class Direction { Out, In };

struct FrameInfo {
    bool complete = false;                 // the link header fits in the frame
    bool ipv4 = false;                     // the network header is IPv4
    std::size_t ip_offset = 0;             // first byte of the IP header
    std::optional<Direction> direction;    // from link-layer metadata, if any
};

class LinkLayer {
public:
    // nullopt for a link type alias-replay cannot decode.
    static std::optional<LinkLayer> for_dlt(int dlt);
    FrameInfo decode(const uint8_t* frame, std::size_t caplen) const;
    bool has_direction() const { return dlt_is_cooked_; }
    int dlt() const { return dlt_; }
    std::string name() const;

    // The link types decode() understands, for error messages.
    static const char* supported_list();

private:
    explicit LinkLayer(int dlt);
    int dlt_;
    bool dlt_is_cooked_;
};

}  // namespace replay
