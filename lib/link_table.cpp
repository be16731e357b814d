// SPDX-License-Identifier: BSD-2-Clause
#include "link_table.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cassert>
#include <cstdlib>
#include <new>

namespace nalias {

LinkExtra::~LinkExtra() {
    if (sockfd >= 0) ::close(sockfd);
    if (handler_data && handler_data_free) handler_data_free(handler_data);
}

}  // namespace nalias

nalias::LinkExtra* alias_link::lookup_extra() const noexcept { return nalias::LinkTable::of(*this).extra_at(extra_id); }

nalias::LinkExtra* alias_link::ensure_extra() noexcept { return nalias::LinkTable::of(*this).ensure_extra(*this); }

namespace nalias {

LinkPool::~LinkPool() {
    for (const Chunk& c : chunks_) {
        if (c.mapped)
            ::munmap(c.base, c.bytes);
        else
            std::free(c.base);
    }
}

bool LinkPool::add_chunk() noexcept {
    try {
        chunks_.reserve(chunks_.size() + 1);
    } catch (...) {
        return false;
    }
    // Over-map by the alignment and trim, so the chunk starts at a multiple
    // of kChunkAlign (owner_of relies on it).  Where mmap is refused, the
    // heap's aligned allocation is the fallback.
    const std::size_t bytes = chunks_.size() < kSmallChunks ? kSmallChunkBytes : kChunkAlign;
    const std::size_t span = kChunkAlign + bytes;
    uintptr_t aligned = 0;
    bool mapped = false;
    void* p = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
        const auto start = reinterpret_cast<uintptr_t>(p);
        aligned = (start + kChunkAlign - 1) & ~(uintptr_t{kChunkAlign} - 1);
        if (aligned > start) ::munmap(p, aligned - start);
        const uintptr_t end = start + span, aligned_end = aligned + bytes;
        if (end > aligned_end) ::munmap(reinterpret_cast<void*>(aligned_end), end - aligned_end);
        mapped = true;
    } else {
        void* q = nullptr;
        if (::posix_memalign(&q, kChunkAlign, bytes) != 0) return false;
        aligned = reinterpret_cast<uintptr_t>(q);
    }
    auto* first = reinterpret_cast<Slot*>(aligned);
    new (first->storage) ChunkHeader{owner_};
    chunks_.push_back({first, bytes, mapped});
    bytes_ += bytes;
    carve_ = first + 1;
    carve_end_ = first + bytes / sizeof(Slot);
    return true;
}

void* LinkPool::allocate() noexcept {
    if (free_) {
        Slot* s = free_;
        free_ = s->next;
        return s->storage;
    }
    if (carve_ == carve_end_ && !add_chunk()) return nullptr;
    return (carve_++)->storage;
}

void LinkPool::release(void* p) noexcept {
    auto* s = static_cast<Slot*>(p);
    s->next = free_;
    free_ = s;
}

BucketArray::BucketArray() noexcept {
    // PROT_NONE reserves address space only: it is not charged against the
    // commit limit even with strict overcommit.  Under an address-space
    // limit (RLIMIT_AS) smaller reservations are tried: the table then stops
    // growing its index earlier, and chains lengthen past that size.
    // The tags follow the buckets in the same reservation; both regions
    // start on a page boundary (want * sizeof(Bucket) is a multiple of 4 KiB).
    for (std::size_t want = kMaxBuckets; want > kInitialBuckets && !mapped_; want /= 4) {
        const std::size_t span = want * (sizeof(Bucket) + sizeof(Tag));
        void* p = ::mmap(nullptr, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) continue;
        data_ = static_cast<Bucket*>(p);
        tags_ = reinterpret_cast<Tag*>(data_ + want);
        reserved_ = want;
        mapped_ = true;
        if (!commit(kInitialBuckets)) {
            ::munmap(p, span);
            mapped_ = false;
        }
    }
    if (!mapped_) {
        data_ = fallback_;
        tags_ = fallback_tags_;
        reserved_ = committed_ = kInitialBuckets;
    }
    for (std::size_t i = 0; i < kInitialBuckets; ++i) new (&data_[i]) Bucket();
}

BucketArray::~BucketArray() {
    if (mapped_) ::munmap(data_, reserved_ * (sizeof(Bucket) + sizeof(Tag)));
}

bool BucketArray::commit(std::size_t buckets) noexcept {
    if (buckets <= committed_) return true;
    if (!mapped_ || buckets > reserved_) return false;
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const auto make_writable = [page](void* base, std::size_t from_bytes, std::size_t to_bytes) {
        const std::size_t from = from_bytes / page * page, to = (to_bytes + page - 1) / page * page;
        return to <= from || ::mprotect(static_cast<char*>(base) + from, to - from, PROT_READ | PROT_WRITE) == 0;
    };
    // Pages opened for the buckets but not the tags stay opened: harmless, and retried next time.
    if (!make_writable(data_, committed_ * sizeof(Bucket), buckets * sizeof(Bucket)) ||
        !make_writable(tags_, committed_ * sizeof(Tag), buckets * sizeof(Tag)))
        return false;
    committed_ = buckets;
    return true;
}

LinkTable::LinkTable(const HashSecret& secret)
    : hasher_(secret),
      out_(OutIndex::bucket_traits(out_buckets_.data(), BucketArray::kInitialBuckets), hasher_),
      in_(InIndex::bucket_traits(in_buckets_.data(), BucketArray::kInitialBuckets), hasher_),
      limit_(2097152u) {}

LinkTable::~LinkTable() {
    clear(false);
    // The indexes' destructors visit every bucket up to bucket_count(),
    // including those the split has not reached yet.
    construct_unsplit(out_, out_buckets_);
    construct_unsplit(in_, in_buckets_);
}

template <class Index> void LinkTable::construct_unsplit(Index& index, BucketArray& buckets) noexcept {
    for (std::size_t i = index.split_count(); i < index.bucket_count(); ++i) new (&buckets.data()[i]) Bucket();
}

// One step of linear hashing: the next bucket of the lower half is split
// into its image in the upper half.  When every bucket is split, the array
// doubles in place first (same address, so the index moves no link).
template <class KeyOf, class Index> bool LinkTable::split_one(Index& index, BucketArray& buckets) noexcept {
    if (index.split_count() == index.bucket_count()) {
        const std::size_t count = index.bucket_count();
        if (!buckets.commit(count * 2)) return false;
        if (!index.incremental_rehash(typename Index::bucket_traits(buckets.data(), count * 2))) return false;
    }
    // Boost splits bucket split - count/2 into bucket split.
    const std::size_t image = index.split_count(), source = image - index.bucket_count() / 2;
    new (&buckets.data()[image]) Bucket();
    if (!index.incremental_rehash(true)) return false;
    refresh_tag<KeyOf>(index, buckets, source);
    refresh_tag<KeyOf>(index, buckets, image);
    // Each split hashes every link of its source bucket, and in a large
    // table those links are cold.  A chain is read one link at a time, so the
    // next kSplitLookahead sources are read ahead in a pipeline: the source
    // d splits away (d = 0 for the next split) has had its first
    // kSplitLookahead - 1 - d links requested by earlier splits, which have
    // arrived since; walk them and request one more.  The next split then
    // finds up to kSplitLookahead links of its source cached (source chains
    // hold 1 to 2 links on average).  A table small enough to stay cached
    // only requests the next source's first link: there the walks' branches,
    // which chain lengths make unpredictable, cost more than they save.
    // Kept inline: GCC 12 judged a separate function holding this loop pure
    // (it only loads and prefetches) and deleted its calls.
    // After the last split of a round the array doubles and splitting starts
    // again from bucket 0, with twice as many sources.
    const std::size_t lookahead = index.bucket_count() >= kSplitLookaheadMinBuckets ? kSplitLookahead : 1;
    const bool round_done = index.split_count() == index.bucket_count();
    const std::size_t sources = round_done ? index.bucket_count() : index.bucket_count() / 2;
    const std::size_t next = round_done ? 0 : index.split_count() - sources;
    for (std::size_t d = 0; d < lookahead; ++d) {
        std::size_t n = next + d;
        if (n >= sources) n -= sources;       // the next round's first sources
        if (n >= index.split_count()) break;  // a tiny table: not a built bucket
        auto it = index.begin(n);
        const auto end = index.end(n);
        for (std::size_t walked = 0; walked + d + 1 < lookahead && it != end; ++walked) ++it;
        if (it != end) __builtin_prefetch(&*it);
    }
    return true;
}

template <class KeyOf, class Index>
void LinkTable::refresh_tag(Index& index, BucketArray& buckets, std::size_t n) noexcept {
    BucketArray::Tag tags = 0;
    for (auto it = index.begin(n), end = index.end(n); it != end; ++it) tags |= tag_bits(KeyOf::filter_tag(*it));
    buckets.tags()[n] = tags;
}

uint8_t LinkTable::queue_for(uint32_t seconds) noexcept {
    for (std::size_t i = 0; i < queue_count_; ++i)
        if (wheels_[i].seconds == seconds) return static_cast<uint8_t>(i);
    if (queue_count_ < kMaxQueues) {
        wheels_[queue_count_].seconds = seconds;
        wheels_[queue_count_].width = width_for(seconds);
        return static_cast<uint8_t>(queue_count_++);
    }
    // Out of wheels (more distinct timeouts than any real configuration
    // uses): the nearest longer timeout keeps the link at least as long.
    std::size_t best = 0;
    for (std::size_t i = 0; i < queue_count_; ++i) {
        const uint32_t s = wheels_[i].seconds, b = wheels_[best].seconds;
        if ((s >= seconds && (b < seconds || s < b)) || (b < seconds && s > b))
            best = i;
    }
    return static_cast<uint8_t>(best);
}

void LinkTable::grow_if_needed() noexcept {
    // One split per insert keeps the load at kMaxLoad; a refused split
    // (address space exhausted) only lengthens chains.
    if (out_.size() > kMaxLoad * out_.split_count()) split_one<OutKeyOf>(out_, out_buckets_);
    if (in_.size() > kMaxLoad * in_.split_count()) split_one<InKeyOf>(in_, in_buckets_);
}

template <class KeyOf, class Index>
bool LinkTable::insert_into(Index& index, BucketArray& buckets, Link& l, bool known_absent) noexcept {
    const FlowKey k = KeyOf()(l);
    const std::size_t h = hasher_(k);
    // Boost's commit data is the key's hash and nothing else (checked
    // here, so that a Boost that changes it fails to build instead of
    // misplacing links): a key known to be absent skips the check's walk.
    typename Index::insert_commit_data commit;
    static_assert(sizeof(commit) == sizeof(commit.hash) && std::is_same_v<decltype(commit.hash), std::size_t>);
    if (known_absent) {
        assert(index.find(k, Prehashed{h}, std::equal_to<FlowKey>()) == index.end());
        commit.hash = h;
    } else if (!index.insert_unique_check(k, Prehashed{h}, std::equal_to<FlowKey>(), commit).second) {
        return false;
    }
    index.insert_unique_commit(l, commit);
    const unsigned tag = tag_of(h);
    KeyOf::set_filter_tag(l, tag);
    buckets.tags()[index.bucket(k, Prehashed{h})] |= tag_bits(tag);
    return true;
}

template <class KeyOf, class Index> void LinkTable::erase_from(Index& index, BucketArray& buckets, Link& l) noexcept {
    const std::size_t n = index.bucket(KeyOf()(l));
    index.erase(index.iterator_to(l));
    refresh_tag<KeyOf>(index, buckets, n);
}

bool LinkTable::insert_out(Link& l, bool known_absent) noexcept {
    if (l.flags & kIndexedOut) return true;
    if (!insert_into<OutKeyOf>(out_, out_buckets_, l, known_absent)) return false;
    l.flags |= kIndexedOut;
    return true;
}

bool LinkTable::insert_in(Link& l, bool known_absent) noexcept {
    if (l.flags & kIndexedIn) return true;
    if (!insert_into<InKeyOf>(in_, in_buckets_, l, known_absent)) return false;
    l.flags |= kIndexedIn;
    return true;
}

void LinkTable::erase_out(Link& l) noexcept {
    if (!(l.flags & kIndexedOut)) return;
    erase_from<OutKeyOf>(out_, out_buckets_, l);
    l.flags &= ~kIndexedOut;
}

void LinkTable::erase_in(Link& l) noexcept {
    if (!(l.flags & kIndexedIn)) return;
    erase_from<InKeyOf>(in_, in_buckets_, l);
    l.flags &= ~kIndexedIn;
}

bool LinkTable::reclaim_for_limit(uint32_t now) noexcept {
    // Only links that are already due go; a full table never evicts a live
    // flow, so a flood cannot push established connections out.  Overdue
    // links sit in due buckets (the sweep with a larger budget finds them)
    // or, for wheels wider than a second, in the bucket of the present
    // tick, which is searched too.
    sweep_wheels(now, kReclaimBudget);
    if (dynamic_count_ < limit_) return true;
    for (std::size_t i = 0; i < queue_count_ && dynamic_count_ >= limit_; ++i) {
        Wheel& w = wheels_[i];
        if (w.links == 0 || w.cursor != due_end(w, now)) continue;
        ExpiryList& bucket = w.buckets[w.cursor % kWheelBuckets];
        for (unsigned budget = kReclaimBudget; budget && !bucket.empty() && dynamic_count_ >= limit_; --budget) {
            Link& l = bucket.front();
            if (idle_past(l, now, w.seconds)) {
                destroy_expired(&l);
            } else {
                // Refiled: a used link moves to a later bucket, the rest to
                // the back of this one, so the next search sees others.
                l.expiry_hook.unlink();
                file(w, l);
            }
        }
    }
    return dynamic_count_ < limit_;
}

Link* LinkTable::create(const Link& f, uint32_t timeout, uint32_t now, bool index_out, bool index_in,
                        bool in_key_known_absent, bool out_key_known_absent) noexcept {
    const bool permanent = f.flags & kPermanent;
    if (!permanent && dynamic_count_ >= limit_ && !reclaim_for_limit(now)) {
        ++refused;
        return nullptr;
    }
    void* slot = pool_.allocate();
    if (!slot) return nullptr;
    Link* l = new (slot) Link();
    l->src_addr = f.src_addr;
    l->dst_addr = f.dst_addr;
    l->alias_addr = f.alias_addr;
    l->src_port = f.src_port;
    l->dst_port = f.dst_port;
    l->alias_port = f.alias_port;
    l->type = f.type;
    l->flags = static_cast<uint16_t>(f.flags & ~(kIndexedOut | kIndexedIn | kRequeue));
    l->queue = kNoQueue;
    l->last_used = now;
    if (index_out && !insert_out(*l, out_key_known_absent)) {
        l->~Link();
        pool_.release(l);
        return nullptr;
    }
    if (index_in && !insert_in(*l, in_key_known_absent)) {
        erase_out(*l);
        l->~Link();
        pool_.release(l);
        return nullptr;
    }
    if (permanent || timeout == 0) {
        l->flags |= kPermanent;
        l->queue = kNoQueue;
        all_permanent_.push_back(*l);
        ++permanent_count_;
    } else {
        l->queue = queue_for(timeout);
        Wheel& w = wheels_[l->queue];
        if (w.links++ == 0 && w.cursor < due_end(w, now)) w.cursor = due_end(w, now);
        file(w, *l);
        ++dynamic_count_;
    }
    ++created;
    grow_if_needed();
    return l;
}

LinkExtra* LinkTable::ensure_extra(Link& l) noexcept {
    if (l.extra_id) return extras_[l.extra_id].get();
    std::unique_ptr<LinkExtra> e(new (std::nothrow) LinkExtra());
    if (!e) return nullptr;
    uint32_t id;
    if (!free_extras_.empty()) {
        id = free_extras_.back();
        free_extras_.pop_back();
        extras_[id] = std::move(e);
    } else {
        if (extras_.size() >= (std::size_t{1} << kExtraIdBits)) return nullptr;
        try {
            if (extras_.empty()) extras_.emplace_back();  // slot 0: "none"
            free_extras_.reserve(extras_.size() + 1);
            extras_.push_back(std::move(e));
        } catch (...) {
            return nullptr;
        }
        id = static_cast<uint32_t>(extras_.size() - 1);
    }
    l.extra_id = id;
    return extras_[id].get();
}

void LinkTable::destroy(Link* l, bool expired) noexcept {
    if (on_destroy) on_destroy(instance, *l, expired);
    if (l->extra_id) {
        extras_[l->extra_id].reset();
        free_extras_.push_back(l->extra_id);  // capacity reserved in ensure_extra
        l->extra_id = 0;
    }
    erase_out(*l);
    erase_in(*l);
    l->expiry_hook.unlink();
    if (l->queue == kNoQueue) {
        --permanent_count_;
    } else {
        --wheels_[l->queue].links;
        --dynamic_count_;
    }
    l->~Link();
    pool_.release(l);
}

void LinkTable::set_timeout(Link& l, uint32_t timeout, uint32_t now) noexcept {
    if (timeout == 0) {
        make_permanent(l);
        return;
    }
    const uint8_t q = queue_for(timeout);
    if (l.queue == q) return;
    l.expiry_hook.unlink();
    if (l.queue == kNoQueue) {
        --permanent_count_;
        ++dynamic_count_;
        l.flags &= ~kPermanent;
    } else {
        --wheels_[l.queue].links;
    }
    l.queue = q;
    l.last_used = now;
    Wheel& w = wheels_[q];
    if (w.links++ == 0 && w.cursor < due_end(w, now)) w.cursor = due_end(w, now);
    file(w, l);
}

void LinkTable::expire_soon(Link& l, uint32_t now) noexcept {
    set_timeout(l, 1, now);
    // Idle for more than its wheel's timeout, whichever wheel took it.
    l.last_used = now - wheels_[l.queue].seconds - 1;
}

void LinkTable::make_permanent(Link& l) noexcept {
    if (l.queue == kNoQueue) return;
    l.expiry_hook.unlink();
    --wheels_[l.queue].links;
    --dynamic_count_;
    l.queue = kNoQueue;
    l.flags |= kPermanent;
    all_permanent_.push_back(l);
    ++permanent_count_;
}

void LinkTable::file(Wheel& w, Link& l) noexcept {
    // Deadlines past the cursor's last tick (the cursor lags while work is
    // pending) wait in its last bucket and are examined early, which the
    // idle test makes harmless.
    uint64_t tick = (uint64_t{l.last_used} + w.seconds + 1) / w.width;
    if (tick < w.cursor) tick = w.cursor;
    if (tick >= w.cursor + kWheelBuckets) tick = w.cursor + kWheelBuckets - 1;
    w.buckets[tick % kWheelBuckets].push_back(l);
}

unsigned LinkTable::sweep_wheel(Wheel& w, uint32_t now, unsigned& budget) noexcept {
    const uint64_t end = due_end(w, now);
    if (w.links == 0) {
        if (w.cursor < end) w.cursor = end;
        return 0;
    }
    // After a jump of more than N ticks every bucket is due: relabelling
    // them as the last N ticks changes nothing but the empty ones walked.
    if (end > w.cursor + kWheelBuckets) w.cursor = end - kWheelBuckets;
    unsigned removed = 0;
    while (w.cursor < end) {
        ExpiryList& bucket = w.buckets[w.cursor % kWheelBuckets];
        while (!bucket.empty()) {
            if (budget == 0) return removed;
            --budget;
            Link& l = bucket.front();
            if (idle_past(l, now, w.seconds)) {
                destroy_expired(&l);
                ++removed;
            } else {
                // Used since it was filed: its new deadline is past `now`,
                // so it lands in a later tick, never back in this bucket.
                bucket.pop_front();
                file(w, l);
            }
        }
        ++w.cursor;
    }
    return removed;
}

unsigned LinkTable::sweep_wheels(uint32_t now, unsigned budget) noexcept {
    last_sweep_ = now;
    unsigned removed = 0;
    bool pending = false;
    for (std::size_t i = 0; i < queue_count_; ++i) {
        Wheel& w = wheels_[i];
        removed += sweep_wheel(w, now, budget);
        if (w.cursor < due_end(w, now)) {
            pending = true;
            break;
        }
    }
    sweep_pending_ = pending;
    return removed;
}

void LinkTable::clear(bool keep_permanent) noexcept {
    for (std::size_t i = 0; i < queue_count_; ++i)
        for (auto& bucket : wheels_[i].buckets)
            while (!bucket.empty()) destroy(&bucket.front());
    if (!keep_permanent)
        while (!all_permanent_.empty()) destroy(&all_permanent_.front());
}

}  // namespace nalias
