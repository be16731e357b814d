// SPDX-License-Identifier: BSD-2-Clause
//
// link_table.hpp: storage, indexes and expiry of an instance's links.
//
// Data model.  Links live in a pool of fixed-size slots owned by the table.
// Two intrusive hash indexes (Boost.Intrusive unordered_set, power-of-two
// buckets, keyed hash) find a link from an outbound packet (out index) or an
// inbound one (in index).
//
// Expiry.  Each distinct timeout T has a calendar ("wheel") of kWheelBuckets
// (N = 64) intrusive lists; bucket i holds the links whose deadline
// (last_used + T + 1 when they were filed: a link goes once idle for MORE
// than T whole seconds of the clock, as in libalias, so that with a clock in
// whole seconds no link goes before T real seconds of silence; RFC 5508
// REQ-2 wants that for the 60 s of ICMP) falls in a tick k = deadline / w with
// k mod N = i, where the width is w = max(1, ceil(T / (N-1))) seconds.  A
// hit only stamps `last_used` (one write to a line the lookup already
// touched; no list operation).  The sweep walks each wheel's cursor over the
// ticks whose whole range [k*w, (k+1)*w) has passed and examines every link
// there: idle for more than T -> destroyed, otherwise (used since it was
// filed) -> filed again under its new deadline, which lies in a later tick.
// So a link leaves the table at most w-1 seconds after it became due:
// exactly on time for T <= 63 s (w = 1), within 4 s for 300 s, within
// 1371 s for the 86400 s of an established TCP connection.  Links filed
// with a deadline beyond the cursor's N ticks (the cursor lags while work
// is pending) go to its last bucket and are re-examined there: examining
// early is harmless, the idle test decides.  A clock that jumps forward by
// more than N ticks makes every bucket due: the cursor then skips ahead to
// N ticks before the present, so no call walks more than N empty buckets.
// The sweep runs at most once per clock second plus while work is pending,
// with a per-packet budget of examined links, so no packet pays more than a
// bounded amount of housekeeping.  Lookups also test expired() on every hit.
// docs/performance.md has the numbers.
//
// The index buckets store no hash: keys compare in two 64-bit words, so a stored
// hash would only speed up rehashing and would cost 16 bytes per link.
//
// Miss filters.  Beside each index's bucket array lies a 16-bit tag per
// bucket, two 8-bit halves.  A link with hash h sets one bit in each half,
// numbered by h's top six bits (three per half; the bucket number uses the
// low bits).  A lookup with either of its two bits clear misses without
// reading the bucket or any link.  At 1M links each index's tags take 2 MiB
// and stay in cache where its 8 MiB bucket array and the links do not.  In
// the in index that is what a spoofed or scanning inbound packet costs.  In
// the out index it is a new flow's first lookup: the filter turns it away
// without walking the bucket's chain, whose links are cold, and the bucket
// the insert will write is requested at once, so its DRAM read overlaps the
// choice of an alias port instead of preceding it.  At load <= 1 about 3% of
// misses pass (1 - 2e^(-1/8) + e^(-15/64) = 2.6% for Poisson chains of mean
// one; linear hashing's unsplit buckets hold more; measured 3.0%); one bit
// per link out of 16 let 6.6% through, each a bucket read and a link read
// from DRAM in a large table.
// Invariant: for every bucket in use, the tag is exactly the union of its
// links' bits (insert adds them; erase and split recompute the tag from the
// bit numbers each link keeps in `in_tag` or `out_tag`, without hashing).
//
// Growth never stops the world.  The indexes use linear hashing
// (Boost.Intrusive's incremental option): each insert that lifts the load
// factor above kMaxLoad splits ONE bucket, so a rehash is spread over the
// inserts that caused it and no packet pays for a whole table.  A bucket
// array doubles in place: its address space is reserved once (BucketArray)
// and committed as it grows, so doubling moves nothing; the buckets of the
// new half are constructed one by one, as the split reaches them.  At the
// steady load of 1 the two indexes cost 20 bytes per link, tags included.
//
// Invariants: every link in an index is also counted in size(); dynamic
// links never exceed the link limit; a permanent link is in no wheel; a
// dynamic link is in exactly one bucket of the wheel of its `queue`, at or
// after that wheel's cursor and less than N ticks beyond it.
#pragma once

#include "link.hpp"

#include <boost/intrusive/list.hpp>
#include <boost/intrusive/unordered_set.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

namespace nalias {

// Per index: the link's key (Boost's key_of_value), and the miss-filter bit
// numbers the link keeps for that index (see "Miss filters" above).
struct OutKeyOf {
    using type = FlowKey;
    FlowKey operator()(const Link& l) const noexcept { return l.out_key(); }
    static unsigned filter_tag(const Link& l) noexcept { return l.out_tag; }
    static void set_filter_tag(Link& l, unsigned tag) noexcept { l.out_tag = tag; }
};
struct InKeyOf {
    using type = FlowKey;
    FlowKey operator()(const Link& l) const noexcept { return l.in_key(); }
    static unsigned filter_tag(const Link& l) noexcept { return l.in_tag; }
    static void set_filter_tag(Link& l, unsigned tag) noexcept { l.in_tag = tag; }
};

using OutHook = bi::member_hook<Link, bi::unordered_set_member_hook<>, &Link::out_hook>;
using InHook = bi::member_hook<Link, bi::unordered_set_member_hook<>, &Link::in_hook>;
// auto_unlink: a link can leave whichever wheel bucket it is in in O(1)
// without the table knowing which one (the link stores no bucket number).
using ExpiryHook = bi::member_hook<Link, ExpiryMemberHook, &Link::expiry_hook>;

using OutIndex = bi::unordered_set<Link, OutHook, bi::key_of_value<OutKeyOf>, bi::hash<KeyedFlowHash>,
                                   bi::power_2_buckets<true>, bi::incremental<true>, bi::constant_time_size<true>>;
using InIndex = bi::unordered_set<Link, InHook, bi::key_of_value<InKeyOf>, bi::hash<KeyedFlowHash>,
                                  bi::power_2_buckets<true>, bi::incremental<true>, bi::constant_time_size<true>>;
using Bucket = OutIndex::bucket_type;
static_assert(std::is_same_v<Bucket, InIndex::bucket_type>);

// A bucket array that grows in place: address space for kMaxBuckets is
// reserved at construction (no memory is committed for it), and
// commit(n) makes the first n buckets' pages usable.  Buckets are
// constructed by the index's owner, not here.  Without the reservation
// (mmap refused) it is a fixed array of kInitialBuckets and commit() fails
// beyond it: the index keeps working with longer chains.
class BucketArray {
public:
    static constexpr std::size_t kInitialBuckets = 256;
    static constexpr std::size_t kMaxBuckets = std::size_t{1} << 25;  // 256 MiB of address space: 32M links at load 1

    using Tag = uint16_t;  // two halves; each link's `in_tag` or `out_tag` sets one bit in each

    BucketArray() noexcept;
    BucketArray(const BucketArray&) = delete;
    BucketArray& operator=(const BucketArray&) = delete;
    ~BucketArray();
    Bucket* data() noexcept { return data_; }
    // The miss filter's tags, one per bucket, zero until set.
    Tag* tags() noexcept { return tags_; }
    const Tag* tags() const noexcept { return tags_; }
    std::size_t committed() const noexcept { return committed_; }
    bool commit(std::size_t buckets) noexcept;

private:
    Bucket* data_ = nullptr;
    Tag* tags_ = nullptr;  // in the same reservation, after the buckets
    std::size_t reserved_ = 0, committed_ = 0;
    bool mapped_ = false;
    Bucket fallback_[kInitialBuckets];
    Tag fallback_tags_[kInitialBuckets] = {};
};
using ExpiryList = bi::list<Link, ExpiryHook, bi::constant_time_size<false>>;

// Fixed-size slot allocator: links are carved from chunks and recycled
// through a free list, so creating a link costs no malloc in steady state.
// Slots are 64 bytes and 64-byte aligned, so a link is exactly one cache
// line.  Every chunk starts at a multiple of kChunkAlign and keeps its owner
// in its first slot: a link's table is found from the link's address alone
// (owner_of), which is how link-only calls (the LinkExtra of a link, module
// calls such as GetProxyPort) reach the table without a pointer in every
// link.  A new chunk is carved in address order as links need slots, so its
// pages are first touched one at a time rather than all at once by the
// packet that allocated it.  The first kSmallChunks chunks are 256 KiB (a
// natd with a few hundred links stays small, and a mapping that small never
// becomes a huge page); later ones are 2 MiB, aligned to huge-page
// boundaries.  Chunks are mmap'd, or taken from the heap's aligned
// allocator where mmap is refused.  nalias does not ask for transparent
// huge pages (madvise): they make lookups in a large table about a third
// faster, but the packet that first touches a huge page pays for clearing
// all 2 MiB of it, measured at up to 10 ms on a VM, against the 1 ms pause
// bound (docs/performance.md).  With THP enabled=always the kernel uses
// huge pages for the 2 MiB chunks anyway: the administrator's call.
class LinkPool {
public:
    static constexpr std::size_t kSlotBytes = 64;
    static constexpr std::size_t kChunkAlign = std::size_t{2} << 20;  // one x86-64 huge page

    explicit LinkPool(void* owner) noexcept : owner_(owner) {}
    LinkPool(const LinkPool&) = delete;
    LinkPool& operator=(const LinkPool&) = delete;
    ~LinkPool();
    void* allocate() noexcept;  // nullptr when memory is exhausted
    void release(void* slot) noexcept;
    std::size_t bytes_reserved() const noexcept { return bytes_; }
    // The owner given to the pool that allocated `slot`.
    static void* owner_of(const void* slot) noexcept {
        const auto chunk = reinterpret_cast<uintptr_t>(slot) & ~(uintptr_t{kChunkAlign} - 1);
        return reinterpret_cast<const ChunkHeader*>(chunk)->owner;
    }

private:
    union Slot {
        Slot* next;
        alignas(kSlotBytes) unsigned char storage[kSlotBytes];
    };
    static_assert(sizeof(Slot) == kSlotBytes && sizeof(Link) <= kSlotBytes && alignof(Link) <= kSlotBytes);
    struct ChunkHeader {
        void* owner;
    };
    static_assert(sizeof(ChunkHeader) <= kSlotBytes);
    struct Chunk {
        void* base;
        std::size_t bytes;
        bool mapped;  // mmap'd, else from posix_memalign
    };
    static constexpr std::size_t kSmallChunkBytes = std::size_t{256} << 10;
    static constexpr std::size_t kSmallChunks = 8;
    bool add_chunk() noexcept;

    void* owner_;
    std::vector<Chunk> chunks_;
    std::size_t bytes_ = 0;
    Slot* free_ = nullptr;
    Slot* carve_ = nullptr;      // next never-used slot of the newest chunk
    Slot* carve_end_ = nullptr;
};

class LinkTable {
public:
    static constexpr uint8_t kNoQueue = 0xff;
    static constexpr std::size_t kMaxQueues = 32;  // distinct timeouts (wheels)
    // Buckets per wheel: timeouts up to kWheelBuckets-1 seconds expire exactly.
    static constexpr std::size_t kWheelBuckets = 64;
    // Links per in-use bucket before a split: chains average one link.
    static constexpr std::size_t kMaxLoad = 1;
    // Housekeeping budget: links examined per packet.
    static constexpr unsigned kSweepBudget = 32;
    // Links examined when a new link meets the limit: reclaiming an overdue
    // link is worth more work than refusing a flow.
    static constexpr unsigned kReclaimBudget = 8 * kSweepBudget;

    explicit LinkTable(const HashSecret& secret);
    LinkTable(const LinkTable&) = delete;
    LinkTable& operator=(const LinkTable&) = delete;
    ~LinkTable();

    // Creates a link with the given fields (flags may include kPermanent);
    // indexes it in both indexes, unless `index_out`/`index_in` say otherwise,
    // and files it in the wheel of `timeout` seconds.  nullptr when the link limit is
    // reached and nothing could be reclaimed, or memory is exhausted.
    // `in_key_known_absent`: the caller has just looked the in key up and
    // found nothing (add_link: an alias port chosen by probing that very
    // key, or a given one looked up), so the in index links it at its
    // bucket's head without walking the chain again; in a large table that
    // walk reads other links from DRAM.  `out_key_known_absent`: the same
    // for the out key (the new-flow path, whose lookup just missed).
    Link* create(const Link& fields, uint32_t timeout, uint32_t now, bool index_out = true, bool index_in = true,
                 bool in_key_known_absent = false, bool out_key_known_absent = false) noexcept;
    // Unindexes, unfiles and frees the link and its LinkExtra; `on_destroy` runs first.
    void destroy(Link* l, bool expired = false) noexcept;
    // destroy() of an overdue link, by the sweep or by a lookup that met it
    // first: either way it counts in expired_count.
    void destroy_expired(Link* l) noexcept {
        destroy(l, true);
        ++expired_count;
    }

    // A link's LinkExtra (alias_link::extra / ensure_extra come here).
    LinkExtra* extra_at(uint32_t id) const noexcept { return extras_[id].get(); }
    LinkExtra* ensure_extra(Link& l) noexcept;
    static LinkTable& of(const Link& l) noexcept { return *static_cast<LinkTable*>(LinkPool::owner_of(&l)); }

    // An outbound miss is nearly always a new flow, whose insert writes the
    // bucket the filter turned the lookup away from: that bucket is requested
    // at once, so its DRAM read overlaps the choice of an alias port.
    Link* find_out(const FlowKey& k) noexcept {
        return find<OutKeyOf, kPrefetchSlotOnFilterMiss>(out_, out_buckets_, k);
    }
    Link* find_in(const FlowKey& k) noexcept { return find<InKeyOf>(in_, in_buckets_, k); }
    // find_in for a key about to be inserted (an alias port being chosen):
    // when the filter turns it away, the bucket slot the insert will write
    // is requested now, so that its DRAM read overlaps the work between.
    Link* find_in_before_insert(const FlowKey& k) noexcept {
        return find<InKeyOf, kPrefetchSlotOnFilterMiss>(in_, in_buckets_, k);
    }
    // Whether an index's miss filter lets a lookup of `k` go on to the bucket (for tests).
    bool in_filter_passes(const FlowKey& k) const noexcept { return filter_passes(in_, in_buckets_, k); }
    bool out_filter_passes(const FlowKey& k) const noexcept { return filter_passes(out_, out_buckets_, k); }
    bool insert_out(Link& l, bool known_absent = false) noexcept;
    bool insert_in(Link& l, bool known_absent = false) noexcept;
    void erase_out(Link& l) noexcept;
    void erase_in(Link& l) noexcept;

    // Refreshes a link on use; the sweep refiles it when its bucket is due.
    void touch(Link& l, uint32_t now) noexcept {
        if (l.last_used != now) l.last_used = now;
    }
    bool expired(const Link& l, uint32_t now) const noexcept {
        return l.queue != kNoQueue && idle_past(l, now, wheels_[l.queue].seconds);
    }
    uint32_t timeout_of(const Link& l) const noexcept {
        return l.queue == kNoQueue ? 0 : wheels_[l.queue].seconds;
    }
    // Seconds a link of this timeout may outlive its deadline (w - 1).
    static uint32_t lateness_bound(uint32_t timeout) noexcept { return width_for(timeout) - 1; }
    // Moves the link to the wheel of `timeout` seconds (0 = make permanent).
    void set_timeout(Link& l, uint32_t timeout, uint32_t now) noexcept;
    // Makes the link due at once (dynamic if it was permanent): the next
    // lookup or sweep frees it, not this call, for callers whose own caller
    // still holds the link for the rest of a packet.
    void expire_soon(Link& l, uint32_t now) noexcept;
    void make_permanent(Link& l) noexcept;

    // Housekeeping: examines links of due buckets within the budget (links
    // examined); returns links expired.  Inline for the common case of every packet but one a second.
    unsigned sweep(uint32_t now, unsigned budget) noexcept {
        if (now == last_sweep_ && !sweep_pending_) return 0;
        return sweep_wheels(now, budget);
    }
    bool sweep_pending() const noexcept { return sweep_pending_; }

    // Removes every link (or every non-permanent one).
    void clear(bool keep_permanent) noexcept;

    // Permanent links only (redirects and links made permanent by modules).
    template <class Fn> void for_each_permanent(Fn&& fn) {
        for (auto& l : all_permanent_) fn(l);
    }
    template <class Fn> void for_each(Fn&& fn) {
        for (auto& l : all_permanent_) fn(l);
        for (std::size_t i = 0; i < queue_count_; ++i)
            for (auto& bucket : wheels_[i].buckets)
                for (auto& l : bucket) fn(l);
    }

    std::size_t dynamic_count() const noexcept { return dynamic_count_; }
    std::size_t size() const noexcept { return dynamic_count_ + permanent_count_; }
    std::size_t limit() const noexcept { return limit_; }
    void set_limit(std::size_t n) noexcept { limit_ = n; }
    // Buckets in use (constructed and reachable) and their tags, both indexes.
    std::size_t bucket_bytes() const noexcept {
        return (out_.split_count() + in_.split_count()) * (sizeof(Bucket) + sizeof(BucketArray::Tag));
    }
    std::size_t out_buckets() const noexcept { return out_.split_count(); }
    std::size_t in_buckets() const noexcept { return in_.split_count(); }
    std::size_t pool_bytes() const noexcept { return pool_.bytes_reserved(); }

    // The instance that owns the table, set by the instance: the context of
    // on_destroy, and how calls that get a link alone (module exports:
    // SetExpire(lnk), ...) reach it.
    void* instance = nullptr;
    // Called for each link just before it is freed (sockets, handler state,
    // fragment buffers, statistics).
    void (*on_destroy)(void* instance, Link& l, bool expired) = nullptr;

    unsigned long long created = 0, expired_count = 0, refused = 0;

private:
    struct Wheel {
        uint32_t seconds = 0;        // the timeout T
        uint32_t width = 1;          // seconds per bucket
        uint64_t cursor = 0;         // first tick not yet swept; ticks before it are empty
        std::size_t links = 0;       // links filed in this wheel
        std::array<ExpiryList, kWheelBuckets> buckets;
    };
    static bool idle_past(const Link& l, uint32_t now, uint32_t timeout) noexcept {
        return now - l.last_used > timeout;
    }
    static uint32_t width_for(uint32_t seconds) noexcept {
        const uint32_t w = (seconds + (kWheelBuckets - 2)) / (kWheelBuckets - 1);
        return w ? w : 1;
    }
    // First tick whose range has not wholly passed at `now`.
    static uint64_t due_end(const Wheel& w, uint32_t now) noexcept { return (uint64_t{now} + 1) / w.width; }
    void file(Wheel& w, Link& l) noexcept;
    unsigned sweep_wheel(Wheel& w, uint32_t now, unsigned& budget) noexcept;
    uint8_t queue_for(uint32_t seconds) noexcept;
    void grow_if_needed() noexcept;
    // A hasher that returns a hash computed once, so the filter and the bucket walk share it.
    struct Prehashed {
        std::size_t h;
        std::size_t operator()(const FlowKey&) const noexcept { return h; }
    };
    // A tag is two halves of kTagHalfBits bits; a link's in_tag or out_tag names one bit in each.
    static constexpr unsigned kTagHalfBits = 1u << (kFilterTagBits / 2);
    static_assert(kFilterTagBits % 2 == 0 && sizeof(BucketArray::Tag) * 8 == 2 * kTagHalfBits,
                  "a link's tag numbers one bit in each half of its bucket's tag");
    static unsigned tag_of(std::size_t h) noexcept { return static_cast<unsigned>(h >> (64 - kFilterTagBits)); }
    // The two bits of each link tag, tabulated: one load on the lookup path
    // instead of two shifts by variable amounts (128 bytes, hot in L1).
    static constexpr std::array<BucketArray::Tag, std::size_t{1} << kFilterTagBits> kTagBitsOf = [] {
        std::array<BucketArray::Tag, std::size_t{1} << kFilterTagBits> bits{};
        for (unsigned t = 0; t < bits.size(); ++t) {
            const unsigned low_half_bit = t % kTagHalfBits, high_half_bit = kTagHalfBits + t / kTagHalfBits;
            bits[t] = static_cast<BucketArray::Tag>((1u << low_half_bit) | (1u << high_half_bit));
        }
        return bits;
    }();
    static BucketArray::Tag tag_bits(unsigned tag) noexcept { return kTagBitsOf[tag]; }
    // Whether bucket n may hold a link whose hash is h: both of h's bits are set.
    static bool tag_admits(const BucketArray& buckets, std::size_t n, std::size_t h) noexcept {
        const BucketArray::Tag want = tag_bits(tag_of(h));
        return (buckets.tags()[n] & want) == want;
    }
    template <class Index>
    bool filter_passes(const Index& index, const BucketArray& buckets, const FlowKey& k) const noexcept {
        const std::size_t h = hasher_(k);
        return tag_admits(buckets, index.bucket(k, Prehashed{h}), h);
    }
    static constexpr bool kPrefetchSlotOnFilterMiss = true;
    template <class KeyOf, bool prefetch_on_filter_miss = false, class Index>
    Link* find(Index& index, BucketArray& buckets, const FlowKey& k) noexcept {
        const std::size_t h = hasher_(k);
        const std::size_t n = index.bucket(k, Prehashed{h});
        if (!tag_admits(buckets, n, h)) {
            if constexpr (prefetch_on_filter_miss) __builtin_prefetch(&buckets.data()[n], 1);
            return nullptr;
        }
        for (auto it = index.begin(n), end = index.end(n); it != end; ++it)
            if (KeyOf()(*it) == k) return &*it;
        return nullptr;
    }
    template <class KeyOf, class Index>
    bool insert_into(Index& index, BucketArray& buckets, Link& l, bool known_absent = false) noexcept;
    template <class KeyOf, class Index> void erase_from(Index& index, BucketArray& buckets, Link& l) noexcept;
    template <class KeyOf, class Index>
    static void refresh_tag(Index& index, BucketArray& buckets, std::size_t n) noexcept;
    template <class KeyOf, class Index> bool split_one(Index& index, BucketArray& buckets) noexcept;
    // Source buckets whose links a split requests ahead (link_table.cpp),
    // from the index size at which the links outgrow this VM's ~4 MiB of cache
    // (docs/performance.md, "Seventh round").
    static constexpr std::size_t kSplitLookahead = 3;
    static constexpr std::size_t kSplitLookaheadMinBuckets = std::size_t{1} << 16;
    template <class Index> static void construct_unsplit(Index& index, BucketArray& buckets) noexcept;
    bool reclaim_for_limit(uint32_t now) noexcept;
    unsigned sweep_wheels(uint32_t now, unsigned budget) noexcept;

    KeyedFlowHash hasher_;
    BucketArray out_buckets_;  // declared before the indexes: they are destroyed first
    BucketArray in_buckets_;
    OutIndex out_;
    InIndex in_;
    std::array<Wheel, kMaxQueues> wheels_{};
    std::size_t queue_count_ = 0;
    ExpiryList all_permanent_;  // permanent links, for clear() and iteration
    LinkPool pool_{this};
    // LinkExtra slots; slot 0 stands for "none".  free_extras_ keeps room
    // for every slot, so that releasing one (in destroy) cannot fail.
    std::vector<std::unique_ptr<LinkExtra>> extras_;
    std::vector<uint32_t> free_extras_;
    std::size_t dynamic_count_ = 0, permanent_count_ = 0;
    std::size_t limit_;
    uint32_t last_sweep_ = 0;
    bool sweep_pending_ = false;
};

}  // namespace nalias
