#include "core/journal.h"

#include <algorithm>
#include <utility>

#include "google/protobuf/util/time_util.h"

namespace linebridge {
namespace {

// Protobuf wire format: base-128 varints; a tag is (field << 3) | wire type.
char* PutVarint(uint64_t v, char* out) {
  while (v >= 0x80) {
    *out++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *out++ = static_cast<char>(v);
  return out;
}

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

constexpr char kEventsTag = (2 << 3) | 2;    // EventBatch.events, length-delimited
constexpr char kEpochTag = (1 << 3) | 0;     // Event.epoch, varint
constexpr char kSequenceTag = (2 << 3) | 0;  // Event.sequence, varint

// The EventBatch.events field of an Event whose bytes without epoch and
// sequence (fields 1 and 2) are `rest`: protobuf writes fields in number
// order, so those two simply go in front.
class EventField {
 public:
  EventField(uint64_t epoch, uint64_t sequence, const std::string& rest)
      : epoch_(epoch), sequence_(sequence), rest_(rest) {
    if (epoch != 0) len_ += 1 + VarintSize(epoch);
    if (sequence != 0) len_ += 1 + VarintSize(sequence);
    len_ += rest.size();
  }
  size_t size() const { return 1 + VarintSize(len_) + len_; }
  void WriteTo(char* out) const {
    *out++ = kEventsTag;
    out = PutVarint(len_, out);
    if (epoch_ != 0) {
      *out++ = kEpochTag;
      out = PutVarint(epoch_, out);
    }
    if (sequence_ != 0) {
      *out++ = kSequenceTag;
      out = PutVarint(sequence_, out);
    }
    std::copy(rest_.begin(), rest_.end(), out);
  }

 private:
  const uint64_t epoch_;
  const uint64_t sequence_;
  const std::string& rest_;
  size_t len_ = 0;
};

std::string SerializeRest(v1::Event* event) {
  const uint64_t epoch = event->epoch();
  const uint64_t sequence = event->sequence();
  event->clear_epoch();
  event->clear_sequence();
  std::string rest = event->SerializeAsString();
  event->set_epoch(epoch);
  event->set_sequence(sequence);
  return rest;
}

}  // namespace

std::string EncodeEventField(const v1::Event& event) {
  v1::Event copy = event;
  const std::string rest = SerializeRest(&copy);
  const EventField field(event.epoch(), event.sequence(), rest);
  std::string out(field.size(), '\0');
  field.WriteTo(out.data());
  return out;
}

EventJournal::EventJournal(uint64_t epoch, size_t capacity)
    : epoch_(epoch), capacity_(std::max<size_t>(capacity, 1)) {
  ring_.resize(capacity_);
}

void EventJournal::QueueAll(std::vector<Entry>* list) {
  for (Entry& e : *list) {
    Waiter* w = e.waiter.get();
    if (w->registered_ && w->generation_ == e.generation) {
      w->registered_ = false;
      to_wake_.push_back(std::move(e.waiter));
    }
  }
  list->clear();
}

uint64_t EventJournal::Append(v1::Event event) {
  event.set_epoch(epoch_);
  if (!event.has_time()) {
    *event.mutable_time() = google::protobuf::util::TimeUtil::GetCurrentTime();
  }
  // Encoded once, here, for every subscriber; only the sequence number is
  // left for the lock.
  auto entry = std::make_shared<JournalEntry>();
  const std::string rest = SerializeRest(&event);
  entry->event = std::move(event);
  std::shared_ptr<const JournalEntry> overwritten;  // freed after the lock
  absl::MutexLock lock(&mu_);
  const uint64_t seq = ++last_;
  entry->event.set_sequence(seq);
  const EventField field(epoch_, seq, rest);
  const size_t size = field.size();
  char* at = chunk_ ? chunk_->Append(size) : nullptr;
  if (at == nullptr) {
    chunk_ = WireChunkRef::Adopt(WireChunk::New(std::max(size, WireChunk::kDefaultCapacity)));
    at = chunk_->Append(size);
  }
  field.WriteTo(at);
  entry->wire = absl::string_view(at, size);
  entry->chunk = chunk_;
  if (fences_.empty()) {
    visible_ = seq;
    QueueFor(seq, entry->event.line_id());
  }
  while (!by_sequence_.empty() && by_sequence_.begin()->first <= seq) {
    Entry& e = by_sequence_.begin()->second;
    Waiter* w = e.waiter.get();
    seq_entry_.erase(w);
    if (w->registered_ && w->generation_ == e.generation) {
      w->registered_ = false;
      to_wake_.push_back(std::move(e.waiter));
    }
    by_sequence_.erase(by_sequence_.begin());
  }
  overwritten = std::exchange(ring_[seq % capacity_], std::move(entry));
  return seq;
}

void EventJournal::QueueFor(uint64_t seq, const std::string& line) {
  // Everyone hears server-wide events, and filtered cursors are moved along
  // often enough that the ring never overtakes them.
  const bool everyone =
      line.empty() || (filtered_count_ > 0 && seq % std::max<size_t>(capacity_ / 4, 1) == 0);
  QueueAll(&unfiltered_);
  if (everyone) {
    for (auto& [l, list] : by_line_) QueueAll(&list);
    by_line_.clear();
    filtered_count_ = 0;
  } else if (auto it = by_line_.find(line); it != by_line_.end()) {
    QueueAll(&it->second);
    by_line_.erase(it);
  }
}

uint64_t EventJournal::Fence() {
  absl::MutexLock lock(&mu_);
  const uint64_t id = ++next_fence_;
  fences_.emplace(id, last_);
  return id;
}

void EventJournal::Release(uint64_t fence) {
  absl::MutexLock lock(&mu_);
  if (fences_.erase(fence) == 0) return;
  const uint64_t limit = fences_.empty() ? last_ : fences_.begin()->second;
  const uint64_t oldest = last_ >= capacity_ ? last_ - capacity_ + 1 : 1;
  // Events the ring has already overwritten wake nobody: their readers get
  // a gap, and the wake of the newest uncovered event reaches them anyway.
  for (uint64_t s = std::max(visible_ + 1, oldest); s <= limit; ++s) {
    QueueFor(s, ring_[s % capacity_]->event.line_id());
  }
  visible_ = std::max(visible_, limit);
}

size_t EventJournal::open_fences() const {
  absl::ReaderMutexLock lock(&mu_);
  return fences_.size();
}

void EventJournal::DeliverWakes() {
  std::vector<std::shared_ptr<Waiter>> wake;
  {
    absl::MutexLock lock(&mu_);
    if (to_wake_.empty()) return;
    wake.swap(to_wake_);
  }
  for (const auto& w : wake) w->Wake();
}

uint64_t EventJournal::last_sequence() const {
  absl::ReaderMutexLock lock(&mu_);
  return last_;
}

uint64_t EventJournal::visible_sequence() const {
  absl::ReaderMutexLock lock(&mu_);
  return visible_;
}

uint64_t EventJournal::oldest_sequence() const {
  absl::ReaderMutexLock lock(&mu_);
  return last_ >= capacity_ ? last_ - capacity_ + 1 : 1;
}

EventJournal::ReadStatus EventJournal::Read(uint64_t from, size_t max,
                                            std::vector<EventPtr>* out) const {
  absl::ReaderMutexLock lock(&mu_);
  const uint64_t oldest = last_ >= capacity_ ? last_ - capacity_ + 1 : 1;
  if (from < oldest) return ReadStatus::kGap;
  for (uint64_t s = from; s <= visible_ && max > 0; ++s, --max) {
    const std::shared_ptr<const JournalEntry>& entry = ring_[s % capacity_];
    out->push_back(EventPtr(entry, &entry->event));  // shares the entry
  }
  return ReadStatus::kOk;
}

EventJournal::ReadStatus EventJournal::Visit(uint64_t from, size_t max,
                                             absl::FunctionRef<void(const JournalEntry&)> fn,
                                             size_t* visited) const {
  *visited = 0;
  absl::ReaderMutexLock lock(&mu_);
  const uint64_t oldest = last_ >= capacity_ ? last_ - capacity_ + 1 : 1;
  if (from < oldest) return ReadStatus::kGap;
  size_t n = 0;
  for (uint64_t s = from; s <= visible_ && n < max; ++s, ++n) fn(*ring_[s % capacity_]);
  *visited = n;
  return ReadStatus::kOk;
}

bool EventJournal::WaitFor(uint64_t from, const std::shared_ptr<Waiter>& w,
                           const std::set<std::string>* lines) {
  absl::MutexLock lock(&mu_);
  if (from <= visible_) return false;
  const uint64_t generation = ++w->generation_;  // earlier entries go stale
  w->registered_ = true;
  DropSequenceEntry(w.get());
  if (lines == nullptr || lines->empty()) {
    unfiltered_.push_back({w, generation});
  } else {
    for (const auto& line : *lines) by_line_[line].push_back({w, generation});
    ++filtered_count_;
  }
  return true;
}

void EventJournal::DropSequenceEntry(Waiter* w) {
  auto it = seq_entry_.find(w);
  if (it == seq_entry_.end()) return;
  by_sequence_.erase(it->second);
  seq_entry_.erase(it);
}

void EventJournal::WaitForSequence(uint64_t seq, const std::shared_ptr<Waiter>& w) {
  absl::MutexLock lock(&mu_);
  const uint64_t generation = ++w->generation_;
  w->registered_ = true;
  DropSequenceEntry(w.get());
  seq_entry_[w.get()] = by_sequence_.emplace(seq, Entry{w, generation});
}

void EventJournal::CancelWait(Waiter* w) {
  absl::MutexLock lock(&mu_);
  w->registered_ = false;
  ++w->generation_;
  // Drop our references now so the waiter's owner can go; stale entries of
  // other waiters stay until their list is next woken.
  auto not_this = [w](const Entry& e) { return e.waiter.get() == w; };
  unfiltered_.erase(std::remove_if(unfiltered_.begin(), unfiltered_.end(), not_this),
                    unfiltered_.end());
  for (auto& [line, list] : by_line_) {
    list.erase(std::remove_if(list.begin(), list.end(), not_this), list.end());
  }
  DropSequenceEntry(w);
  to_wake_.erase(std::remove_if(to_wake_.begin(), to_wake_.end(),
                                [w](const std::shared_ptr<Waiter>& x) { return x.get() == w; }),
                 to_wake_.end());
}

}  // namespace linebridge
