// SPDX-License-Identifier: BSD-2-Clause
//
// alias-replay: replays a capture through a nalias instance, the way natd
// would have seen it, and shows what the NAT did.
//
// Each IPv4 packet goes to LibAliasOut (inside -> outside) or LibAliasIn
// (everything else) in capture order, with the capture's timestamps as the
// instance's clock, so links expire as they would have on the NAT.  The
// translated packets keep their link-layer header and timestamp and are
// written as pcap.  Only the public C API is used, against the shared
// library, exactly as a natd-like program would.
#include "describe.hpp"
#include "link_layer.hpp"
#include "options.hpp"

#include <alias.h>
#include <pcap/pcap.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#ifndef NALIAS_SAMPLE_SOURCE
#define NALIAS_SAMPLE_SOURCE "tests/data/sample.pcap"
#endif
#ifndef NALIAS_SAMPLE_INSTALLED
#define NALIAS_SAMPLE_INSTALLED "/usr/share/nalias/sample.pcap"
#endif

namespace replay {
namespace {

enum ExitCode { kExitOk = 0, kExitUsage = 1, kExitInput = 2, kExitOutput = 3 };

constexpr int kMaxPacket = 65535;  // IP_MAXPACKET: natd hands libalias a buffer this large
constexpr auto kProgressInterval = std::chrono::milliseconds(500);
constexpr auto kProgressQuietStart = std::chrono::seconds(1);  // short replays print no progress at all

struct ConfigError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The instance's clock: whole seconds since the capture's first packet,
// never going backwards even when the capture's timestamps do.
struct CaptureClock {
    long first_sec = -1;
    unsigned now = 0;
    void advance(const timeval& ts) {
        if (first_sec < 0) first_sec = ts.tv_sec;
        const long rel = ts.tv_sec - first_sec;
        if (rel > static_cast<long>(now)) now = static_cast<unsigned>(rel);
    }
    static unsigned read(void* self) { return static_cast<CaptureClock*>(self)->now; }
};

const char* rc_name(int rc) {
    switch (rc) {
    case PKT_ALIAS_OK: return "OK";
    case PKT_ALIAS_IGNORED: return "IGNORED";
    case PKT_ALIAS_ERROR: return "ERROR";
    case PKT_ALIAS_UNRESOLVED_FRAGMENT: return "UNRESOLVED_FRAGMENT";
    case PKT_ALIAS_FOUND_HEADER_FRAGMENT: return "FOUND_HEADER_FRAGMENT";
    default: return "?";
    }
}
constexpr int kReturnCodes[] = {PKT_ALIAS_OK, PKT_ALIAS_IGNORED, PKT_ALIAS_ERROR, PKT_ALIAS_UNRESOLVED_FRAGMENT,
                                PKT_ALIAS_FOUND_HEADER_FRAGMENT};

std::string mode_text(unsigned mode) {
    static const std::pair<unsigned, const char*> kNames[] = {
        {PKT_ALIAS_LOG, "log"}, {PKT_ALIAS_DENY_INCOMING, "deny_incoming"}, {PKT_ALIAS_SAME_PORTS, "same_ports"},
        {PKT_ALIAS_USE_SOCKETS, "use_sockets"}, {PKT_ALIAS_UNREGISTERED_ONLY, "unregistered_only"},
        {PKT_ALIAS_RESET_ON_ADDR_CHANGE, "reset_on_addr_change"}, {PKT_ALIAS_PROXY_ONLY, "proxy_only"},
        {PKT_ALIAS_REVERSE, "reverse"}, {PKT_ALIAS_PUNCH_FW, "punch_fw"}, {PKT_ALIAS_SKIP_GLOBAL, "skip_global"},
        {PKT_ALIAS_UNREGISTERED_CGN, "unregistered_cgn"}, {PKT_ALIAS_UDP_EIM, "udp_eim"}};
    std::string s;
    for (const auto& [flag, name] : kNames)
        if (mode & flag) s += (s.empty() ? "" : " ") + std::string(name);
    return s.empty() ? "(none)" : s;
}

std::string duration_text(unsigned secs) {
    if (secs == 0) return "never";
    if (secs % 3600 == 0) return std::to_string(secs / 3600) + "h";
    if (secs % 60 == 0 && secs >= 600) return std::to_string(secs / 60) + "m";
    return std::to_string(secs) + "s";
}

std::string endpoint(in_addr a, uint16_t port_net, bool with_port) {
    const std::string addr = a.s_addr == INADDR_ANY ? "*" : format_addr(a);
    if (!with_port) return addr;
    return addr + ":" + (port_net == 0 ? std::string("*") : std::to_string(ntohs(port_net)));
}

// Sets up the instance from the configuration; throws ConfigError when the
// library refuses a step (as natd would exit on it).
void configure(libalias* la, const Config& cfg, CaptureClock& clock, std::vector<std::string>& lines) {
    LibAliasSetClock(la, &CaptureClock::read, &clock);
    // Placeholder sockets would reserve ports on the machine running the
    // replay, not on the NAT being studied, and make the result depend on it.
    LibAliasSetMode(la, 0, PKT_ALIAS_USE_SOCKETS);

    if (cfg.port_range) LibAliasSetAliasPortRange(la, cfg.port_range->first, cfg.port_range->second);
    if (cfg.skinny_port) LibAliasSetSkinnyPort(la, *cfg.skinny_port);
    if (cfg.link_limit && LibAliasSetLinkLimit(la, *cfg.link_limit) != 0)
        throw ConfigError("the library refused -link_limit " + std::to_string(*cfg.link_limit));
    if (cfg.target_address) LibAliasSetTarget(la, *cfg.target_address);
    if (cfg.alias_address) LibAliasSetAddress(la, *cfg.alias_address);

    for (const NatStep& step : cfg.steps) {
        if (const auto* m = std::get_if<ModeChange>(&step)) {
            if (LibAliasSetMode(la, m->on ? m->flag : 0, m->flag) == static_cast<unsigned>(-1))
                throw ConfigError("the library refused mode " + mode_text(m->flag) +
                                  (m->flag == PKT_ALIAS_LOG ? " (cannot open the log; NALIAS_LOG_FILE sets its path)"
                                                            : ""));
        } else if (const auto* r = std::get_if<PortRedirect>(&step)) {
            alias_link* lnk = nullptr;
            for (uint16_t i = 0; i < r->count; ++i) {
                const uint16_t remote_port = (r->remote_count == 1 && r->remote_port == 0) ? 0 : r->remote_port + i;
                const uint16_t local_port = r->servers.empty() ? static_cast<uint16_t>(r->local_port + i) : r->local_port;
                lnk = LibAliasRedirectPort(la, r->local, htons(local_port), r->remote, htons(remote_port),
                                           r->public_addr, htons(static_cast<uint16_t>(r->public_port + i)), r->proto);
                if (!lnk) throw ConfigError("the library refused -redirect_port " + r->spec);
            }
            for (const auto& [addr, port] : r->servers)
                if (LibAliasAddServer(la, lnk, addr, htons(port)) != 0)
                    throw ConfigError("the library refused server " + format_addr(addr) + " in -redirect_port " + r->spec);
            lines.push_back("redirect_port " + r->spec);
        } else if (const auto* p = std::get_if<ProtoRedirect>(&step)) {
            if (!LibAliasRedirectProto(la, p->local, p->remote, p->public_addr, p->proto))
                throw ConfigError("the library refused -redirect_proto " + p->spec);
            lines.push_back("redirect_proto " + p->spec);
        } else if (const auto* a = std::get_if<AddressRedirect>(&step)) {
            alias_link* lnk = LibAliasRedirectAddr(la, a->local, a->public_addr);
            if (!lnk) throw ConfigError("the library refused -redirect_address " + a->spec);
            for (in_addr server : a->servers)
                if (LibAliasAddServer(la, lnk, server, htons(0xffff)) != 0)
                    throw ConfigError("the library refused server " + format_addr(server) + " in -redirect_address " +
                                      a->spec);
            lines.push_back("redirect_address " + a->spec);
        } else if (const auto* rule = std::get_if<ProxyRule>(&step)) {
            if (LibAliasProxyRule(la, rule->rule.c_str()) != 0)
                throw ConfigError("the library refused -proxy_rule '" + rule->rule + "'");
            lines.push_back("proxy_rule " + rule->rule);
        }
    }
}

struct Counters {
    unsigned long long read = 0, written = 0, bytes_read = 0;
    unsigned long long by_rc[2][5] = {};  // [out=0/in=1][index in kReturnCodes]
    unsigned long long not_ipv4 = 0, truncated = 0, malformed = 0, local = 0, dropped = 0, held = 0, released = 0;
    std::map<std::string, unsigned long long> links_created;  // by the protocol of the packet that made them
};

// A fragment the library holds until its first fragment arrives, with what
// is needed to write it out afterwards.
struct HeldFragment {
    pcap_pkthdr header;
    std::vector<uint8_t> link_header;
    unsigned long long number;
};

class Replay {
public:
    Replay(const Config& cfg, pcap_t* in, const LinkLayer& link, libalias* la, CaptureClock& clock)
        : cfg_(cfg), in_(in), link_(link), la_(la), clock_(clock), buf_(kMaxPacket) {}

    void set_output(pcap_dumper_t* out) { out_ = out; }
    // Returns the pcap_next_ex status that ended the loop (PCAP_ERROR_BREAK at a clean end).
    int run();
    const Counters& counters() const { return c_; }
    double span() const { return last_ts_ - first_ts_; }
    void print_table_header() const;

private:
    void handle(const pcap_pkthdr& h, const uint8_t* frame);
    void write(const pcap_pkthdr& h, const uint8_t* link_hdr, std::size_t link_len, const uint8_t* ip, std::size_t len);
    void row(unsigned long long n, const pcap_pkthdr& h, const char* dir, const PacketText& before,
             const std::string& after, const std::string& result, const std::string& notes) const;
    std::optional<Direction> direction_of(const uint8_t* ip, const FrameInfo& fi, bool& local) const;
    void progress(bool final);

    const Config& cfg_;
    pcap_t* in_;
    const LinkLayer& link_;
    libalias* la_;
    CaptureClock& clock_;
    pcap_dumper_t* out_ = nullptr;
    std::vector<uint8_t> buf_;
    std::vector<uint8_t> frame_out_;
    std::map<void*, HeldFragment> held_;
    Counters c_;
    double first_ts_ = -1, last_ts_ = 0;
    bool progress_on_ = false, progress_tty_ = false, progress_shown_ = false;
    std::chrono::steady_clock::time_point started_, last_progress_;
};

void Replay::print_table_header() const {
    std::printf("%6s %9s  %-3s  %-12s %-46s %-46s %s\n", "#", "time", "dir", "packet", "before", "after NAT",
                "result");
}

void Replay::row(unsigned long long n, const pcap_pkthdr& h, const char* dir, const PacketText& before,
                 const std::string& after, const std::string& result, const std::string& notes) const {
    if (cfg_.quiet) return;
    const double t = static_cast<double>(h.ts.tv_sec) + h.ts.tv_usec / 1e6 - first_ts_;
    std::printf("%6llu %9.3f  %-3s  %-12s %-46s %-46s %s%s%s\n", n, t, dir, before.kind.c_str(),
                before.endpoints.c_str(), after.c_str(), result.c_str(), notes.empty() ? "" : "  ", notes.c_str());
}

std::optional<Direction> Replay::direction_of(const uint8_t* ip, const FrameInfo& fi, bool& local) const {
    local = false;
    if (!cfg_.inside.empty()) {
        in_addr src, dst;
        std::memcpy(&src, ip + 12, 4);
        std::memcpy(&dst, ip + 16, 4);
        auto inside = [&](in_addr a) {
            return std::any_of(cfg_.inside.begin(), cfg_.inside.end(), [&](const Cidr& c) { return c.contains(a); });
        };
        const bool src_in = inside(src), dst_in = inside(dst);
        if (src_in && dst_in) {
            local = true;  // never crosses the NAT
            return std::nullopt;
        }
        return src_in ? Direction::Out : Direction::In;
    }
    return fi.direction;
}

void Replay::write(const pcap_pkthdr& h, const uint8_t* link_hdr, std::size_t link_len, const uint8_t* ip,
                   std::size_t len) {
    if (!out_) return;
    frame_out_.assign(link_hdr, link_hdr + link_len);
    frame_out_.insert(frame_out_.end(), ip, ip + len);
    pcap_pkthdr oh = h;
    oh.caplen = oh.len = static_cast<bpf_u_int32>(frame_out_.size());
    pcap_dump(reinterpret_cast<u_char*>(out_), &oh, frame_out_.data());
    ++c_.written;
}

void Replay::handle(const pcap_pkthdr& h, const uint8_t* frame) {
    const unsigned long long n = ++c_.read;
    c_.bytes_read += h.caplen;
    const double ts = static_cast<double>(h.ts.tv_sec) + h.ts.tv_usec / 1e6;
    if (first_ts_ < 0) first_ts_ = ts;
    last_ts_ = std::max(last_ts_, ts);
    clock_.advance(h.ts);

    const FrameInfo fi = link_.decode(frame, h.caplen);
    auto pass_through = [&](const char* why) {
        if (out_) {
            pcap_pkthdr oh = h;
            pcap_dump(reinterpret_cast<u_char*>(out_), &oh, frame);
            ++c_.written;
        }
        if (!cfg_.quiet) row(n, h, "-", PacketText{"-", why}, "", "not translated", "");
    };
    if (!fi.complete || !fi.ipv4) {
        ++c_.not_ipv4;
        return pass_through(fi.complete ? "(not IPv4)" : "(frame shorter than its link header)");
    }
    if (h.caplen < h.len) {
        ++c_.truncated;
        return pass_through("(cut short by the capture's snap length)");
    }
    const uint8_t* ip = frame + fi.ip_offset;
    const std::size_t avail = h.caplen - fi.ip_offset;
    const std::size_t ip_len = avail >= 4 ? static_cast<std::size_t>(ip[2] << 8 | ip[3]) : 0;
    if (avail < 20 || ip_len < 20 || ip_len > avail) {
        ++c_.malformed;
        return pass_through("(IPv4 header or length inconsistent with the frame)");
    }

    bool local = false;
    const std::optional<Direction> dir = direction_of(ip, fi, local);
    const PacketText before = describe(ip, ip_len);
    if (!dir) {
        ++c_.local;
        write(h, frame, fi.ip_offset, ip, ip_len);
        row(n, h, "-", before, "", "not translated", "inside to inside");
        return;
    }

    std::memcpy(buf_.data(), ip, ip_len);
    std::fill(buf_.begin() + static_cast<std::ptrdiff_t>(ip_len), buf_.end(), 0);
    alias_stats st0{}, st1{};
    LibAliasGetStats(la_, &st0);
    const bool out = *dir == Direction::Out;
    const int rc = out ? LibAliasOut(la_, buf_.data(), kMaxPacket) : LibAliasIn(la_, buf_.data(), kMaxPacket);
    LibAliasGetStats(la_, &st1);

    const int rc_index = static_cast<int>(std::find(std::begin(kReturnCodes), std::end(kReturnCodes), rc) -
                                          std::begin(kReturnCodes));
    if (rc_index < 5) ++c_.by_rc[out ? 0 : 1][rc_index];

    const std::size_t new_len = static_cast<std::size_t>(buf_[2] << 8 | buf_[3]);
    const std::size_t out_len = std::clamp<std::size_t>(new_len, 20, kMaxPacket);
    std::string notes;
    if (st1.created > st0.created) {
        const auto made = st1.created - st0.created;
        c_.links_created[proto_name(ip[9])] += made;
        notes += "+" + std::to_string(made) + (made == 1 ? " link" : " links");
    }
    const bool changed = out_len != ip_len || std::memcmp(buf_.data(), ip, ip_len) != 0;
    if (out_len != ip_len) {
        notes += (notes.empty() ? "" : ", ") + std::string("length ") + std::to_string(ip_len) + "->" +
                 std::to_string(out_len);
    } else if (changed) {
        const std::size_t pay = payload_offset(ip, ip_len);
        if (pay && pay < ip_len && std::memcmp(buf_.data() + pay, ip + pay, ip_len - pay) != 0)
            notes += (notes.empty() ? "" : ", ") + std::string("payload rewritten");
    }
    if (!out && !changed && rc == PKT_ALIAS_OK)
        notes += (notes.empty() ? "" : ", ") + std::string("no link: left as addressed");
    const std::string after = changed ? describe(buf_.data(), out_len).endpoints : "(unchanged)";
    const char* dir_text = out ? "out" : "in";

    if (rc == PKT_ALIAS_UNRESOLVED_FRAGMENT) {
        // As ppp does: the library keeps the fragment until its first
        // fragment tells where it goes, then hands it back.
        void* copy = std::malloc(ip_len);
        if (copy) {
            std::memcpy(copy, ip, ip_len);
            if (LibAliasSaveFragment(la_, copy) == PKT_ALIAS_OK) {
                held_[copy] = HeldFragment{h, std::vector<uint8_t>(frame, frame + fi.ip_offset), n};
                ++c_.held;
                row(n, h, dir_text, before, "(held until its first fragment)", rc_name(rc), notes);
                return;
            }
            std::free(copy);
        }
    }
    const bool deny = (LibAliasSetMode(la_, 0, 0) & PKT_ALIAS_DENY_INCOMING) != 0;
    if (!out && rc == PKT_ALIAS_IGNORED && deny) {
        ++c_.dropped;  // natd drops what deny_incoming refused
        row(n, h, dir_text, before, "(dropped)", rc_name(rc), "deny_incoming");
        return;
    }
    write(h, frame, fi.ip_offset, buf_.data(), out_len);
    row(n, h, dir_text, before, after, rc_name(rc), notes);

    if (rc == PKT_ALIAS_FOUND_HEADER_FRAGMENT) {
        while (void* fragment = LibAliasGetFragment(la_, buf_.data())) {
            auto* bytes = static_cast<uint8_t*>(fragment);
            const std::size_t flen = static_cast<std::size_t>(bytes[2] << 8 | bytes[3]);
            const PacketText held_text = describe(bytes, flen);
            LibAliasFragmentIn(la_, buf_.data(), fragment);
            if (auto it = held_.find(fragment); it != held_.end()) {
                const HeldFragment& hf = it->second;
                write(hf.header, hf.link_header.data(), hf.link_header.size(), bytes, flen);
                row(hf.number, hf.header, "in", held_text, describe(bytes, flen).endpoints, "released",
                    "after packet " + std::to_string(n));
                held_.erase(it);
            }
            ++c_.released;
            std::free(fragment);
        }
    }
}

void Replay::progress(bool final) {
    if (!progress_on_) return;
    const auto now = std::chrono::steady_clock::now();
    if (final) {
        if (progress_shown_ && progress_tty_) std::fprintf(stderr, "\r\033[K");
        return;
    }
    if (now - started_ < kProgressQuietStart && cfg_.progress != Progress::Always) return;
    if (now - last_progress_ < (progress_tty_ ? kProgressInterval : kProgressInterval * 4)) return;
    last_progress_ = now;
    progress_shown_ = true;
    std::fprintf(stderr, "%salias-replay: %llu packets, %.1f MB, capture time +%.0f s%s", progress_tty_ ? "\r" : "",
                 c_.read, static_cast<double>(c_.bytes_read) / 1e6, last_ts_ - first_ts_, progress_tty_ ? "" : "\n");
    std::fflush(stderr);
}

int Replay::run() {
    progress_tty_ = isatty(STDERR_FILENO);
    progress_on_ = cfg_.progress == Progress::Always ||
                   (cfg_.progress == Progress::Auto && progress_tty_ && (cfg_.quiet || !isatty(STDOUT_FILENO)));
    started_ = last_progress_ = std::chrono::steady_clock::now();
    pcap_pkthdr* h = nullptr;
    const u_char* data = nullptr;
    int status;
    while ((status = pcap_next_ex(in_, &h, &data)) == 1) {
        handle(*h, data);
        if ((c_.read & 0x3ff) == 0 || cfg_.progress == Progress::Always) progress(false);
    }
    progress(true);
    return status;
}

int collect_link(const alias_link_info* info, void* ctx) {
    static_cast<std::vector<alias_link_info>*>(ctx)->push_back(*info);
    return 0;
}

// The ESP/IKE proxy keeps its state apart from the link table (an ESP SA is
// bound by SPI, not by a link), so it is listed on its own.
void print_ipsec_bindings(libalias* la) {
    const int total = LibAliasIpsecGetBindings(la, nullptr, 0);
    if (total <= 0) return;
    std::vector<alias_ipsec_binding> b(static_cast<std::size_t>(total));
    const int got = LibAliasIpsecGetBindings(la, b.data(), static_cast<unsigned>(b.size()));
    b.resize(static_cast<std::size_t>(std::clamp(got, 0, total)));
    std::printf("\nIPsec bindings at the end (%zu)\n", b.size());
    std::printf("  %-4s %-21s %-15s %-15s %7s  %s\n", "kind", "inside", "alias", "peer", "idle", "keys");
    for (const alias_ipsec_binding& x : b) {
        char keys[96];
        std::string inside = format_addr(x.host);
        if (x.kind == LIBALIAS_IPSEC_IKE) {
            inside += ":" + std::to_string(ntohs(x.host_port));
            std::snprintf(keys, sizeof keys, "ike spi %016llx/%016llx", x.ike_spi_i, x.ike_spi_r);
        } else {
            std::snprintf(keys, sizeof keys, "esp spi out 0x%08x in 0x%08x", x.spi_out, x.spi_in);
        }
        std::printf("  %-4s %-21s %-15s %-15s %6us  %s\n", x.kind == LIBALIAS_IPSEC_IKE ? "ike" : "esp",
                    inside.c_str(), format_addr(x.alias).c_str(), format_addr(x.peer).c_str(), x.idle, keys);
    }
}

void print_summary(const Replay& r, libalias* la, const std::string& output_note) {
    const Counters& c = r.counters();
    std::printf("\nSummary\n");
    std::printf("  packets read         %llu over %.3f s of capture time\n", c.read, r.span());
    std::printf("  return code           outbound   inbound\n");
    for (int i = 0; i < 5; ++i) {
        if (c.by_rc[0][i] == 0 && c.by_rc[1][i] == 0 && kReturnCodes[i] != PKT_ALIAS_OK &&
            kReturnCodes[i] != PKT_ALIAS_IGNORED && kReturnCodes[i] != PKT_ALIAS_ERROR)
            continue;
        std::printf("    %-22s %8llu  %8llu\n", rc_name(kReturnCodes[i]), c.by_rc[0][i], c.by_rc[1][i]);
    }
    std::string skipped;
    auto add = [&](unsigned long long v, const char* what) {
        if (v) skipped += (skipped.empty() ? "" : ", ") + std::to_string(v) + " " + what;
    };
    add(c.not_ipv4, "not IPv4");
    add(c.truncated, "cut short by snap length");
    add(c.malformed, "malformed");
    add(c.local, "inside to inside");
    std::printf("  not translated       %s\n", skipped.empty() ? "none" : skipped.c_str());
    if (c.dropped) std::printf("  dropped              %llu (inbound IGNORED with deny_incoming, as natd does)\n", c.dropped);
    if (c.held) std::printf("  fragments held       %llu, released %llu\n", c.held, c.released);

    alias_stats st{};
    LibAliasGetStats(la, &st);
    std::string created;
    unsigned long long by_packets = 0;
    for (const auto& [proto, n] : c.links_created) {
        created += (created.empty() ? "" : ", ") + proto + " " + std::to_string(n);
        by_packets += n;
    }
    std::printf("  links created        %llu by packets (%s), %llu by the configuration; expired %llu; "
                "refused at the limit %llu\n",
                by_packets, created.empty() ? "none" : created.c_str(), st.created - by_packets, st.expired,
                st.refused);
    std::printf("  links alive at end   %u: tcp %u, udp %u, icmp %u, proto %u, sctp %u, pptp %u, fragment %u+%u\n",
                st.total, st.tcp, st.udp, st.icmp, st.proto, st.sctp, st.pptp, st.frag_id, st.frag_ptr);
    if (!output_note.empty()) std::printf("  translated capture   %s\n", output_note.c_str());

    print_ipsec_bindings(la);

    std::vector<alias_link_info> links;
    LibAliasForEachLink(la, collect_link, &links);
    std::printf("\nLink table at the end (%zu links)\n", links.size());
    if (links.empty()) return;
    std::printf("  %-6s %-21s %-21s %-21s %7s %8s  %s\n", "proto", "inside", "alias", "remote", "idle", "timeout",
                "kind");
    for (const alias_link_info& l : links) {
        const bool ports = l.proto == IPPROTO_TCP || l.proto == IPPROTO_UDP || l.proto == IPPROTO_SCTP;
        const bool icmp = l.proto == IPPROTO_ICMP;
        std::string kind = (l.flags & LIBALIAS_LINK_PERMANENT) ? "redirect" : "dynamic";
        if (l.flags & LIBALIAS_LINK_PARTIAL) kind += ", partial";
        std::string inside = endpoint(l.src_addr, l.src_port, ports);
        std::string alias = endpoint(l.alias_addr, l.alias_port, ports);
        if (icmp) {
            inside += " id " + std::to_string(ntohs(l.src_port));
            alias += " id " + std::to_string(ntohs(l.alias_port));
        }
        std::printf("  %-6s %-21s %-21s %-21s %6us %8s  %s\n", l.proto ? proto_name(l.proto).c_str() : "addr",
                    inside.c_str(), alias.c_str(), endpoint(l.dst_addr, l.dst_port, ports).c_str(), l.idle,
                    duration_text(l.timeout).c_str(), kind.c_str());
    }
}

std::string default_sample() {
    // The build tree's copy first, then the installed one.
    for (const char* path : {NALIAS_SAMPLE_SOURCE, NALIAS_SAMPLE_INSTALLED})
        if (access(path, R_OK) == 0) return path;
    return NALIAS_SAMPLE_INSTALLED;
}

bool same_file(const std::string& a, const std::string& b) {
    struct stat sa, sb;
    return stat(a.c_str(), &sa) == 0 && stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int run(int argc, char** argv) {
    Config cfg;
    try {
        cfg = parse_command_line(argc - 1, argv + 1);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "alias-replay: %s\n", e.what());
        return kExitUsage;
    }
    if (cfg.show_help) {
        std::fputs(usage_text(), stdout);
        return kExitOk;
    }
    if (cfg.show_version) {
        const unsigned v = LibAliasVersionNumber();
        std::printf("alias-replay (nalias %u.%u.%u, %s)\n", v / 10000, v / 100 % 100, v % 100, pcap_lib_version());
        return kExitOk;
    }
    const bool sample = cfg.input.empty();
    if (sample) {
        cfg.input = default_sample();
        apply_sample_defaults(cfg);
    }

    char errbuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t* in = pcap_open_offline(cfg.input.c_str(), errbuf);
    if (!in) {
        std::fprintf(stderr, "alias-replay: cannot read capture '%s': %s\n", cfg.input.c_str(), errbuf);
        return kExitInput;
    }
    const int dlt = pcap_datalink(in);
    const std::optional<LinkLayer> link = LinkLayer::for_dlt(dlt);
    if (!link) {
        const char* name = pcap_datalink_val_to_name(dlt);
        std::fprintf(stderr, "alias-replay: '%s' has link type %s (%d), which alias-replay cannot decode; supported: %s\n",
                     cfg.input.c_str(), name ? name : "unknown", dlt, LinkLayer::supported_list());
        pcap_close(in);
        return kExitInput;
    }

    std::string direction_note;
    if (!cfg.inside.empty()) {
        for (const Cidr& c : cfg.inside) direction_note += (direction_note.empty() ? "" : " ") + c.text();
        direction_note = "outbound = from inside " + direction_note + " to elsewhere";
    } else if (link->has_direction()) {
        direction_note = "outbound = packets the capturing host sent (link-layer packet type)";
    } else {
        for (const char* net : {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}) cfg.inside.push_back(parse_cidr(net));
        direction_note = "outbound = from RFC 1918 networks to elsewhere (no --inside given)";
    }

    const bool proxy_only = std::any_of(cfg.steps.begin(), cfg.steps.end(), [](const NatStep& s) {
        const auto* m = std::get_if<ModeChange>(&s);
        return m && m->flag == PKT_ALIAS_PROXY_ONLY && m->on;
    });
    if (!cfg.alias_address && !proxy_only) {
        std::fprintf(stderr, "alias-replay: no alias address: give -a ADDR (the NAT's public address)\n");
        pcap_close(in);
        return kExitUsage;
    }

    CaptureClock clock;
    libalias* la = LibAliasInit(nullptr);
    if (!la) {
        std::fprintf(stderr, "alias-replay: LibAliasInit failed\n");
        pcap_close(in);
        return kExitUsage;
    }
    std::vector<std::string> config_lines;
    try {
        configure(la, cfg, clock, config_lines);
    } catch (const ConfigError& e) {
        std::fprintf(stderr, "alias-replay: %s\n", e.what());
        LibAliasUninit(la);
        pcap_close(in);
        return kExitUsage;
    }

    pcap_t* dead = nullptr;
    pcap_dumper_t* out = nullptr;
    if (!cfg.output.empty()) {
        if (same_file(cfg.input, cfg.output)) {
            std::fprintf(stderr, "alias-replay: refusing to write the translated capture over its input '%s'\n",
                         cfg.output.c_str());
            LibAliasUninit(la);
            pcap_close(in);
            return kExitUsage;
        }
        dead = pcap_open_dead(dlt, std::max(pcap_snapshot(in), kMaxPacket + 64));
        out = dead ? pcap_dump_open(dead, cfg.output.c_str()) : nullptr;
        if (!out) {
            std::fprintf(stderr, "alias-replay: cannot write '%s': %s\n", cfg.output.c_str(),
                         dead ? pcap_geterr(dead) : "pcap_open_dead failed");
            if (dead) pcap_close(dead);
            LibAliasUninit(la);
            pcap_close(in);
            return kExitOutput;
        }
    }

    std::printf("alias-replay: %s%s (%s)\n", cfg.input.c_str(), sample ? " [built-in sample]" : "",
                link->name().c_str());
    std::printf("  alias address  %s\n",
                cfg.alias_address ? format_addr(*cfg.alias_address).c_str() : "(none: proxy_only)");
    std::printf("  direction      %s\n", direction_note.c_str());
    std::printf("  mode           %s\n", mode_text(LibAliasSetMode(la, 0, 0)).c_str());
    for (const std::string& l : config_lines) std::printf("  %s\n", l.c_str());
    for (const std::string& n : cfg.notes) std::printf("  note: %s\n", n.c_str());
    std::printf("\n");

    Replay replay(cfg, in, *link, la, clock);
    replay.set_output(out);
    if (!cfg.quiet) replay.print_table_header();
    const int status = replay.run();

    int rc = kExitOk;
    std::string input_error;
    if (status == PCAP_ERROR) {
        input_error = pcap_geterr(in);
        rc = kExitInput;
    }
    std::string output_note;
    if (out) {
        const bool flushed = pcap_dump_flush(out) == 0;
        pcap_dump_close(out);
        pcap_close(dead);
        if (!flushed) {
            std::fprintf(stderr, "alias-replay: writing '%s' failed\n", cfg.output.c_str());
            rc = kExitOutput;
        }
        output_note = cfg.output + " (" + std::to_string(replay.counters().written) + " packets, pcap)";
    }
    print_summary(replay, la, output_note);
    if (!input_error.empty())
        std::fprintf(stderr, "alias-replay: reading '%s' stopped after %llu packets: %s\n", cfg.input.c_str(),
                     replay.counters().read, input_error.c_str());
    LibAliasUninit(la);
    pcap_close(in);
    return rc;
}

}  // namespace
}  // namespace replay

int main(int argc, char** argv) { return replay::run(argc, argv); }
