// SPDX-License-Identifier: BSD-2-Clause
#include "options.hpp"

#include <alias.h>

#include <arpa/inet.h>
#include <netdb.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <functional>
#include <sstream>

namespace replay {

namespace {

// Protocol names natd users write, without relying on /etc/protocols.
struct ProtoName {
    const char* name;
    uint8_t number;
};
constexpr ProtoName kProtoNames[] = {
    {"icmp", 1}, {"igmp", 2}, {"ipencap", 4}, {"ipip", 4}, {"tcp", 6}, {"udp", 17}, {"ipv6", 41},
    {"gre", 47}, {"esp", 50}, {"ah", 51}, {"ospf", 89}, {"pim", 103}, {"l2tp", 115}, {"sctp", 132},
};

constexpr unsigned kMaxConfigDepth = 8;  // -f files may include others; this stops a loop

std::vector<std::string> split_words(const std::string& s) {
    std::istringstream in(s);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    return words;
}

std::string join(const std::vector<std::string>& words) {
    std::string s;
    for (const auto& w : words) s += (s.empty() ? "" : " ") + w;
    return s;
}

std::optional<in_addr> try_addr(const std::string& s) {
    in_addr a{};
    if (inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
    return a;
}

in_addr parse_addr(const std::string& s, const std::string& what) {
    if (auto a = try_addr(s)) return *a;
    throw UsageError(what + ": '" + s + "' is not an IPv4 address (alias-replay does not resolve host names)");
}

std::optional<unsigned long> try_number(const std::string& s, unsigned long max) {
    unsigned long v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v > max) return std::nullopt;
    return v;
}

uint16_t parse_port(const std::string& s, const char* proto, const std::string& what) {
    if (auto v = try_number(s, 65535)) return static_cast<uint16_t>(*v);
    if (const servent* se = getservbyname(s.c_str(), proto)) return ntohs(static_cast<uint16_t>(se->s_port));
    throw UsageError(what + ": '" + s + "' is neither a port number nor a known " + proto + " service");
}

// "lo-hi" or a single port: returns {lo, count}.
std::pair<uint16_t, uint16_t> parse_port_range(const std::string& s, const char* proto, const std::string& what) {
    const auto dash = s.find('-');
    if (dash == std::string::npos) return {parse_port(s, proto, what), 1};
    const uint16_t lo = parse_port(s.substr(0, dash), proto, what);
    const uint16_t hi = parse_port(s.substr(dash + 1), proto, what);
    if (hi < lo) throw UsageError(what + ": port range '" + s + "' ends before it starts");
    return {lo, static_cast<uint16_t>(hi - lo + 1)};
}

struct AddrPorts {
    in_addr addr{};
    uint16_t port = 0, count = 1;
};

AddrPorts parse_addr_ports(const std::string& s, const char* proto, const std::string& what) {
    const auto colon = s.find(':');
    if (colon == std::string::npos) throw UsageError(what + ": '" + s + "' needs addr:port");
    AddrPorts r;
    r.addr = parse_addr(s.substr(0, colon), what);
    std::tie(r.port, r.count) = parse_port_range(s.substr(colon + 1), proto, what);
    return r;
}

bool looks_like_addr_spec(const std::string& s) {
    return try_addr(s.substr(0, s.find(':'))).has_value();
}

uint8_t parse_proto(const std::string& s, const std::string& what) {
    std::string lower(s);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    for (const auto& p : kProtoNames)
        if (lower == p.name) return p.number;
    if (auto v = try_number(s, 255)) return static_cast<uint8_t>(*v);
    if (const protoent* pe = getprotobyname(lower.c_str())) return static_cast<uint8_t>(pe->p_proto);
    throw UsageError(what + ": unknown protocol '" + s + "'");
}

PortRedirect parse_redirect_port(const std::vector<std::string>& w) {
    const std::string what = "-redirect_port";
    if (w.size() < 3 || w.size() > 4)
        throw UsageError(what + " needs: tcp|udp local_addr:port[-port][,...] [public_addr:]port[-port] "
                                "[remote_addr[:port[-port]]]");
    PortRedirect r;
    r.spec = join(w);
    if (w[0] != "tcp" && w[0] != "udp") throw UsageError(what + ": protocol must be tcp or udp, not '" + w[0] + "'");
    r.proto = w[0] == "tcp" ? IPPROTO_TCP : IPPROTO_UDP;
    const char* proto = w[0].c_str();

    if (w[1].find(',') != std::string::npos) {
        // LSNAT: a pool of servers behind one public port.
        std::stringstream pool(w[1]);
        for (std::string server; std::getline(pool, server, ',');) {
            const AddrPorts s = parse_addr_ports(server, proto, what);
            if (s.count != 1) throw UsageError(what + ": a server in a pool takes a single port");
            r.servers.emplace_back(s.addr, s.port);
        }
        r.local.s_addr = INADDR_NONE;
        r.local_port = 0xffff;
    } else {
        const AddrPorts l = parse_addr_ports(w[1], proto, what);
        r.local = l.addr;
        r.local_port = l.port;
        r.count = l.count;
    }

    AddrPorts pub;
    if (w[2].find(':') != std::string::npos) {
        pub = parse_addr_ports(w[2], proto, what);
    } else {
        pub.addr.s_addr = INADDR_ANY;
        std::tie(pub.port, pub.count) = parse_port_range(w[2], proto, what);
    }
    r.public_addr = pub.addr;
    r.public_port = pub.port;
    if (pub.count != r.count) throw UsageError(what + ": local and public port ranges differ in size");

    r.remote.s_addr = INADDR_ANY;
    if (w.size() == 4) {
        if (w[3].find(':') != std::string::npos) {
            const AddrPorts rem = parse_addr_ports(w[3], proto, what);
            r.remote = rem.addr;
            r.remote_port = rem.port;
            r.remote_count = rem.count;
        } else {
            r.remote = parse_addr(w[3], what);
        }
    }
    if (r.remote_count != r.count && !(r.remote_count == 1 && r.remote_port == 0))
        throw UsageError(what + ": the remote port range must be 0 or as large as the local one");
    return r;
}

ProtoRedirect parse_redirect_proto(const std::vector<std::string>& w) {
    const std::string what = "-redirect_proto";
    if (w.size() < 2 || w.size() > 4) throw UsageError(what + " needs: proto local_addr [public_addr [remote_addr]]");
    ProtoRedirect r;
    r.spec = join(w);
    r.proto = parse_proto(w[0], what);
    r.local = parse_addr(w[1], what);
    r.public_addr.s_addr = w.size() > 2 ? parse_addr(w[2], what).s_addr : INADDR_ANY;
    r.remote.s_addr = w.size() > 3 ? parse_addr(w[3], what).s_addr : INADDR_ANY;
    return r;
}

AddressRedirect parse_redirect_address(const std::vector<std::string>& w) {
    const std::string what = "-redirect_address";
    if (w.size() != 2) throw UsageError(what + " needs: local_addr[,local_addr...] public_addr");
    AddressRedirect r;
    r.spec = join(w);
    if (w[0].find(',') != std::string::npos) {
        std::stringstream pool(w[0]);
        for (std::string server; std::getline(pool, server, ',');) r.servers.push_back(parse_addr(server, what));
        r.local.s_addr = INADDR_NONE;
    } else {
        r.local = parse_addr(w[0], what);
    }
    r.public_addr = parse_addr(w[1], what);
    return r;
}

// How an option takes its parameters on the command line.
enum class Arity {
    None,        // a switch
    YesNo,       // optional yes|no, default yes
    One,         // exactly one word
    RedirectPort,
    RedirectProto,
    RedirectAddress,
    ProxyRule,
};

struct Option {
    const char* name;
    const char* letter;  // one-letter alias or nullptr
    Arity arity;
    std::function<void(Config&, const std::vector<std::string>&, unsigned depth)> apply;
};

void read_config_file(Config& cfg, const std::string& path, unsigned depth);

ModeChange mode_change(unsigned flag, const std::vector<std::string>& w, const char* name) {
    if (w.empty() || w[0] == "yes") return {flag, true};
    if (w[0] == "no") return {flag, false};
    throw UsageError(std::string("-") + name + " takes yes or no, not '" + w[0] + "'");
}

#define MODE_OPTION(NAME, LETTER, FLAG) \
    {NAME, LETTER, Arity::YesNo, [](Config& c, const auto& w, unsigned) { c.steps.push_back(mode_change(FLAG, w, NAME)); }}

#define IGNORED_OPTION(NAME, LETTER, ARITY, WHY) \
    {NAME, LETTER, ARITY, [](Config& c, const auto&, unsigned) { c.notes.push_back(std::string("-") + NAME + ": " + WHY); }}

const std::vector<Option>& option_table() {
    static const std::vector<Option> table = {
        // Replay input, output and direction.
        {"read", "r", Arity::One, [](Config& c, const auto& w, unsigned) { c.input = w[0]; }},
        {"write", "o", Arity::One, [](Config& c, const auto& w, unsigned) { c.output = w[0]; }},
        {"inside", nullptr, Arity::One, [](Config& c, const auto& w, unsigned) { c.inside.push_back(parse_cidr(w[0])); }},
        {"quiet", "q", Arity::None, [](Config& c, const auto&, unsigned) { c.quiet = true; }},
        {"progress", nullptr, Arity::None, [](Config& c, const auto&, unsigned) { c.progress = Progress::Always; }},
        {"no_progress", nullptr, Arity::None, [](Config& c, const auto&, unsigned) { c.progress = Progress::Never; }},
        {"help", "h", Arity::None, [](Config& c, const auto&, unsigned) { c.show_help = true; }},
        {"version", "V", Arity::None, [](Config& c, const auto&, unsigned) { c.show_version = true; }},

        // natd's libalias modes.
        MODE_OPTION("unregistered_only", "u", PKT_ALIAS_UNREGISTERED_ONLY),
        MODE_OPTION("unregistered_cgn", nullptr, PKT_ALIAS_UNREGISTERED_CGN),
        MODE_OPTION("log", "l", PKT_ALIAS_LOG),
        MODE_OPTION("proxy_only", nullptr, PKT_ALIAS_PROXY_ONLY),
        MODE_OPTION("reverse", nullptr, PKT_ALIAS_REVERSE),
        MODE_OPTION("deny_incoming", "d", PKT_ALIAS_DENY_INCOMING),
        MODE_OPTION("use_sockets", "s", PKT_ALIAS_USE_SOCKETS),
        MODE_OPTION("same_ports", "m", PKT_ALIAS_SAME_PORTS),
        MODE_OPTION("udp_eim", nullptr, PKT_ALIAS_UDP_EIM),

        // natd's addresses, redirects and rules.
        {"alias_address", "a", Arity::One,
         [](Config& c, const auto& w, unsigned) { c.alias_address = parse_addr(w[0], "-alias_address"); }},
        {"target_address", "t", Arity::One,
         [](Config& c, const auto& w, unsigned) { c.target_address = parse_addr(w[0], "-target_address"); }},
        {"alias_port_range", nullptr, Arity::One,
         [](Config& c, const auto& w, unsigned) {
             const auto [lo, count] = parse_port_range(w[0], "tcp", "-alias_port_range");
             if (count < 2) throw UsageError("-alias_port_range needs lo-hi with hi > lo");
             c.port_range = {lo, static_cast<uint16_t>(lo + count - 1)};
         }},
        {"redirect_port", nullptr, Arity::RedirectPort,
         [](Config& c, const auto& w, unsigned) { c.steps.emplace_back(std::in_place_type<PortRedirect>, parse_redirect_port(w)); }},
        {"redirect_proto", nullptr, Arity::RedirectProto,
         [](Config& c, const auto& w, unsigned) { c.steps.emplace_back(std::in_place_type<ProtoRedirect>, parse_redirect_proto(w)); }},
        {"redirect_address", nullptr, Arity::RedirectAddress,
         [](Config& c, const auto& w, unsigned) { c.steps.emplace_back(std::in_place_type<AddressRedirect>, parse_redirect_address(w)); }},
        {"proxy_rule", nullptr, Arity::ProxyRule,
         [](Config& c, const auto& w, unsigned) {
             if (w.empty()) throw UsageError("-proxy_rule needs a rule, e.g. 'port 80 server 10.0.0.2:3128'");
             c.steps.push_back(ProxyRule{join(w)});
         }},
        {"skinny_port", nullptr, Arity::One,
         [](Config& c, const auto& w, unsigned) {
             auto v = try_number(w[0], 65535);
             if (!v) throw UsageError("-skinny_port: '" + w[0] + "' is not a port number");
             c.skinny_port = static_cast<unsigned>(*v);
         }},
        {"link_limit", nullptr, Arity::One,
         [](Config& c, const auto& w, unsigned) {
             auto v = try_number(w[0], 0xffffffffu);
             if (!v || *v == 0) throw UsageError("-link_limit: '" + w[0] + "' is not a positive number");
             c.link_limit = static_cast<unsigned>(*v);
         }},
        {"config", "f", Arity::One,
         [](Config& c, const auto& w, unsigned depth) { read_config_file(c, w[0], depth + 1); }},

        // natd options about the daemon itself: nothing to replay.
        IGNORED_OPTION("interface", "n", Arity::One, "the interface's address is not known offline; give -a"),
        IGNORED_OPTION("dynamic", nullptr, Arity::YesNo, "interface address tracking does not apply to a capture"),
        IGNORED_OPTION("punch_fw", nullptr, Arity::One, "ipfw holes do not exist on Linux; ignored"),
        IGNORED_OPTION("verbose", "v", Arity::YesNo, "the per-packet table is alias-replay's verbose output"),
        IGNORED_OPTION("in_port", "i", Arity::One, "divert sockets are not used"),
        IGNORED_OPTION("out_port", nullptr, Arity::One, "divert sockets are not used"),
        IGNORED_OPTION("port", "p", Arity::One, "divert sockets are not used"),
        IGNORED_OPTION("globalport", nullptr, Arity::One, "one instance is replayed"),
        IGNORED_OPTION("instance", nullptr, Arity::One, "one instance is replayed; later options apply to it"),
        IGNORED_OPTION("log_denied", nullptr, Arity::YesNo, "no syslog in a replay"),
        IGNORED_OPTION("log_facility", nullptr, Arity::One, "no syslog in a replay"),
        IGNORED_OPTION("log_ipfw_denied", nullptr, Arity::YesNo, "no ipfw in a replay"),
        IGNORED_OPTION("pid_file", "P", Arity::One, "no daemon in a replay"),
        IGNORED_OPTION("exit_delay", nullptr, Arity::One, "no daemon in a replay"),
    };
    return table;
}

const Option* find_option(std::string name) {
    std::replace(name.begin(), name.end(), '-', '_');
    if (name == "redirect_addr") name = "redirect_address";  // a common spelling (ipfw's)
    if (name == "port_range") name = "alias_port_range";     // ipfw nat's spelling
    for (const Option& o : option_table())
        if (name == o.name || (o.letter && name == o.letter)) return &o;
    return nullptr;
}

void read_config_file(Config& cfg, const std::string& path, unsigned depth) {
    if (depth > kMaxConfigDepth) throw UsageError("-f " + path + ": configuration files include each other too deeply");
    std::ifstream in(path);
    if (!in) throw UsageError("-f " + path + ": cannot open the configuration file");
    unsigned lineno = 0;
    for (std::string line; std::getline(in, line);) {
        ++lineno;
        if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
        std::vector<std::string> words = split_words(line);
        if (words.empty()) continue;
        const std::string name = words.front();
        words.erase(words.begin());
        const Option* opt = find_option(name);
        if (!opt) throw UsageError(path + ":" + std::to_string(lineno) + ": unknown option '" + name + "'");
        try {
            if ((opt->arity == Arity::One) && words.size() != 1)
                throw UsageError("-" + name + " takes one parameter");
            opt->apply(cfg, words, depth);
        } catch (const UsageError& e) {
            throw UsageError(path + ":" + std::to_string(lineno) + ": " + e.what());
        }
    }
}

bool is_proxy_keyword(const std::string& w) {
    static const char* const kKeywords[] = {"type", "port", "server", "rule", "delete", "proto", "src", "dst"};
    return std::any_of(std::begin(kKeywords), std::end(kKeywords), [&](const char* k) { return w == k; });
}

}  // namespace

std::string format_addr(in_addr a) {
    char b[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a, b, sizeof b);
    return b;
}

std::string proto_name(unsigned proto) {
    for (const auto& p : kProtoNames)
        if (p.number == proto && std::string_view(p.name) != "ipip") return p.name;
    return "proto " + std::to_string(proto);
}

std::string Cidr::text() const {
    in_addr a{htonl(network)};
    int bits = 0;
    for (uint32_t m = mask; m & 0x80000000u; m <<= 1) ++bits;
    return format_addr(a) + "/" + std::to_string(bits);
}

Cidr parse_cidr(const std::string& s) {
    const auto slash = s.find('/');
    const in_addr a = parse_addr(s.substr(0, slash), "--inside");
    unsigned long bits = 32;
    if (slash != std::string::npos) {
        auto v = try_number(s.substr(slash + 1), 32);
        if (!v) throw UsageError("--inside: '" + s + "' has a bad prefix length");
        bits = *v;
    }
    Cidr c;
    c.mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
    c.network = ntohl(a.s_addr) & c.mask;
    return c;
}

Config parse_command_line(int argc, char** argv) {
    Config cfg;
    std::vector<std::string> args(argv, argv + argc);
    bool options_done = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (options_done || arg.size() < 2 || arg[0] != '-') {
            if (!cfg.input.empty()) throw UsageError("more than one capture given: '" + cfg.input + "' and '" + arg + "'");
            cfg.input = arg;
            continue;
        }
        if (arg == "--") {
            options_done = true;
            continue;
        }
        std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
        std::optional<std::string> inline_value;
        if (const auto eq = name.find('='); eq != std::string::npos) {
            inline_value = name.substr(eq + 1);
            name.erase(eq);
        }
        const Option* opt = find_option(name);
        if (!opt) throw UsageError("unknown option '" + arg + "' (alias-replay --help lists them)");

        auto next_is_word = [&](std::size_t k) { return k < args.size() && !(args[k].size() > 1 && args[k][0] == '-'); };
        std::vector<std::string> words;
        if (inline_value) {
            words = split_words(*inline_value);
        } else {
            switch (opt->arity) {
            case Arity::None:
                break;
            case Arity::YesNo:
                if (i + 1 < args.size() && (args[i + 1] == "yes" || args[i + 1] == "no")) words.push_back(args[++i]);
                break;
            case Arity::One:
                if (i + 1 >= args.size()) throw UsageError(arg + " needs a parameter");
                words.push_back(args[++i]);
                break;
            case Arity::RedirectPort:
            case Arity::RedirectProto:
            case Arity::RedirectAddress: {
                // One quoted word holds the whole spec; otherwise take the
                // required words, then optional trailing addresses only when
                // they parse as such, so a capture file name that follows is
                // not swallowed.
                if (next_is_word(i + 1) && args[i + 1].find_first_of(" \t") != std::string::npos) {
                    words = split_words(args[++i]);
                    break;
                }
                const std::size_t required = opt->arity == Arity::RedirectPort ? 3 : 2;
                const std::size_t most = opt->arity == Arity::RedirectAddress ? 2 : 4;
                while (words.size() < required && next_is_word(i + 1)) words.push_back(args[++i]);
                while (words.size() < most && next_is_word(i + 1) && looks_like_addr_spec(args[i + 1]))
                    words.push_back(args[++i]);
                break;
            }
            case Arity::ProxyRule:
                if (next_is_word(i + 1) && args[i + 1].find_first_of(" \t") != std::string::npos) {
                    words = split_words(args[++i]);
                    break;
                }
                while (next_is_word(i + 1) && is_proxy_keyword(args[i + 1])) {
                    words.push_back(args[++i]);
                    if (words.back() != "delete" || next_is_word(i + 1)) {
                        if (!next_is_word(i + 1)) throw UsageError("-proxy_rule: '" + words.back() + "' needs a value");
                        words.push_back(args[++i]);
                    }
                }
                break;
            }
        }
        if (opt->arity == Arity::None && !words.empty()) throw UsageError(arg + " takes no parameter");
        opt->apply(cfg, words, 0);
    }
    return cfg;
}

void apply_sample_defaults(Config& cfg) {
    if (cfg.inside.empty()) {
        cfg.inside.push_back(parse_cidr("10.0.0.0/8"));
        cfg.inside.push_back(parse_cidr("192.168.0.0/16"));
    }
    if (!cfg.alias_address) cfg.alias_address = parse_addr("203.0.113.1", "sample");
    const bool has_redirect = std::any_of(cfg.steps.begin(), cfg.steps.end(), [](const NatStep& s) {
        return std::holds_alternative<PortRedirect>(s) || std::holds_alternative<ProtoRedirect>(s) ||
               std::holds_alternative<AddressRedirect>(s);
    });
    if (!has_redirect) cfg.steps.push_back(parse_redirect_port({"tcp", "192.168.1.10:80", "8080"}));
}

const char* usage_text() {
    return R"(usage: alias-replay [capture.pcap|-r capture] [-o translated.pcap] [--inside CIDR]...
                    [natd options] [-q] [--progress|--no-progress]

Replays a pcap or pcapng capture through a nalias (libalias) instance and
shows what the NAT does to every packet.  With no capture, replays the
built-in sample with inside 10.0.0.0/8 + 192.168.0.0/16, alias address
203.0.113.1 and -redirect_port tcp 192.168.1.10:80 8080.

Replay:
  -r, --read FILE           capture to replay (pcap or pcapng)
  -o, --write FILE          write the translated packets (pcap, same link type)
  --inside CIDR             inside network; repeatable.  Packets from inside to
                            elsewhere go through LibAliasOut, the rest through
                            LibAliasIn.  Without it: the packet type of Linux
                            cooked captures, else the RFC 1918 networks
  -q, --quiet               no per-packet table, only the summary
  --progress, --no-progress force or suppress the progress line on stderr
  -f, --config FILE         read natd options from FILE (natd.conf syntax)
  -h, --help                this text;   -V, --version   library version

natd options (one or two dashes; yes/no options default to yes):
  -a, -alias_address ADDR   the NAT's public address (required for a capture)
  -t, -target_address ADDR  where unsolicited inbound packets go
  -m, -same_ports [yes|no]  keep source ports when possible (default yes)
  -s, -use_sockets [yes|no] reserve ports with host sockets (default no here)
  -d, -deny_incoming [yes|no]  refuse new inbound flows; they are dropped
  -u, -unregistered_only [yes|no]   alias RFC 1918 sources only
  -unregistered_cgn, -udp_eim, -reverse, -proxy_only, -l/-log  [yes|no]
  -alias_port_range LO-HI   ports for new links (default 32768-65535)
  -redirect_port tcp|udp local:port[-port][,local:port...] [public:]port[-port]
                 [remote[:port[-port]]]
  -redirect_proto proto local [public [remote]]
  -redirect_address local[,local...] public       (also -redirect_addr)
  -proxy_rule [type encode_ip_hdr|encode_tcp_stream] port N server ADDR[:PORT]
  -skinny_port N, -link_limit N
  natd's daemon options (-port, -interface, -log_facility, ...) are ignored.

Exit status: 0 replayed; 1 bad options or configuration refused by the
library; 2 the capture cannot be read (missing, not a capture, unsupported
link type, damaged); 3 the output cannot be written.
)";
}

}  // namespace replay
