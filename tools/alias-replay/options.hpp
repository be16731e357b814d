// SPDX-License-Identifier: BSD-2-Clause
//
// options.hpp: alias-replay's command line, natd(8) style.
//
// A Config is the whole replay setup, parsed before anything is opened: the
// capture to read, where to write, how to tell direction, and the NAT
// configuration as an ordered list of natd options.  Order matters the way
// it does for natd: a later -redirect_port for the same public port wins, and
// mode flags are applied one after another.  Addresses are kept in network
// order, ports in host order (they are printed far more often than used).
//
// Parsing follows natd: an option's parameters are the words that follow it
// up to the next word starting with '-' (or one quoted word); options have a
// long name and sometimes a one-letter alias, with one or two leading dashes;
// yes/no options default to yes.  natd options that only concern the daemon
// (divert ports, syslog, pid file) are accepted and ignored with a note, so
// that an /etc/natd.conf can be replayed with -f as it is.  A problem in the
// options throws UsageError; nothing is half-applied.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace replay {

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Cidr {
    uint32_t network = 0;  // host order, already masked
    uint32_t mask = 0;     // host order
    bool contains(in_addr a) const { return (ntohl(a.s_addr) & mask) == network; }
    std::string text() const;
};

// -redirect_port proto local:port[-port][,server:port...] [public:]port[-port] [remote[:port[-port]]]
struct PortRedirect {
    uint8_t proto = 0;
    in_addr local{}, public_addr{}, remote{};
    uint16_t local_port = 0, public_port = 0, remote_port = 0;
    uint16_t count = 1;            // ports in the range (local and public sizes match)
    uint16_t remote_count = 1;     // 1 with remote_port 0 means any remote port
    std::vector<std::pair<in_addr, uint16_t>> servers;  // LSNAT pool, empty otherwise
    std::string spec;              // as written, for the report
};

// -redirect_proto proto local [public [remote]]
struct ProtoRedirect {
    uint8_t proto = 0;
    in_addr local{}, public_addr{}, remote{};
    std::string spec;
};

// -redirect_address local[,local...] public
struct AddressRedirect {
    in_addr local{}, public_addr{};
    std::vector<in_addr> servers;  // LSNAT pool, empty otherwise
    std::string spec;
};

struct ModeChange {
    unsigned flag = 0;
    bool on = true;
};

struct ProxyRule {
    std::string rule;
};

using NatStep = std::variant<ModeChange, PortRedirect, ProtoRedirect, AddressRedirect, ProxyRule>;

enum class Progress { Auto, Always, Never };

struct Config {
    // Input and output.
    std::string input;            // empty: the built-in sample
    std::string output;           // empty: no capture written
    bool quiet = false;           // no per-packet table
    Progress progress = Progress::Auto;

    // Direction.
    std::vector<Cidr> inside;     // empty: link-layer metadata, else RFC 1918

    // The NAT.
    std::optional<in_addr> alias_address;
    std::optional<in_addr> target_address;
    std::optional<std::pair<uint16_t, uint16_t>> port_range;
    std::optional<unsigned> skinny_port;
    std::optional<unsigned> link_limit;
    std::vector<NatStep> steps;

    std::vector<std::string> notes;  // ignored natd options, shown in the header
    bool show_help = false;
    bool show_version = false;
};

// "a.b.c.d/len" (or a bare address, /32).  Throws UsageError.
Cidr parse_cidr(const std::string& text);

// Parses argv (without argv[0]).  Throws UsageError.
Config parse_command_line(int argc, char** argv);

// The configuration alias-replay uses for the built-in sample when the
// command line leaves the corresponding part unset.
void apply_sample_defaults(Config& cfg);

// Text for --help.
const char* usage_text();

std::string format_addr(in_addr a);
std::string proto_name(unsigned proto);

}  // namespace replay
