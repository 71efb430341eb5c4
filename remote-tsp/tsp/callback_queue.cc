// RemoteProvider: the one queue of callbacks into TAPISRV (LINEEVENT,
// PHONEEVENT and ASYNC_COMPLETION), delivered in order by one drainer at a time.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tapi_mapping.h"
#include "tsp/provider_internal.h"
#include "tsp/remote_provider.h"

namespace linebridge::tsp {

void RemoteProvider::EnqueueLocked(Outgoing out) {
  if (dispatcher_stop_ || !initialized_) return;
  queue_.push_back(out);
}

void RemoteProvider::CompleteLocked(DRV_REQUESTID request_id, LONG result) {
  if (pending_.erase(request_id) == 0) return;  // completed already
  Outgoing out;
  out.kind = Outgoing::Kind::kCompletion;
  out.request_id = request_id;
  out.result = result;
  EnqueueLocked(out);
}

bool RemoteProvider::TakeLocked(Delivery* d) {
  while (!queue_.empty()) {
    *d = Delivery();
    d->item = queue_.front();
    queue_.pop_front();
    d->completion = completion_proc_;
    d->hprovider = hprovider_;
    switch (d->item.kind) {
      case Outgoing::Kind::kCompletion: return true;
      case Outgoing::Kind::kCreate:
      case Outgoing::Kind::kRemove: d->proc = line_create_proc_; return true;
      case Outgoing::Kind::kPhoneCreate:
      case Outgoing::Kind::kPhoneRemove: d->phone_proc = phone_create_proc_; return true;
      case Outgoing::Kind::kPhoneEvent: {
        OpenPhone* open = open_phones_.Find(d->item.hd_phone);
        if (open == nullptr) continue;  // closed meanwhile: nothing after phoneClose
        d->phone_proc = open->event_proc;
        d->ht_phone = open->ht_phone;
        return true;
      }
      case Outgoing::Kind::kLineEvent: {
        OpenLine* open = open_lines_.Find(d->item.hd_line);
        if (open == nullptr) continue;
        d->proc = open->event_proc;
        d->ht_line = open->ht_line;
        return true;
      }
      case Outgoing::Kind::kCallEvent:
      case Outgoing::Kind::kNewCall: {
        CallEntry* call = calls_.Find(d->item.hd_call);
        if (call == nullptr) continue;
        OpenLine* open = open_lines_.Find(call->hd_line);
        if (open == nullptr) continue;
        if (d->item.kind == Outgoing::Kind::kCallEvent && call->ht_call == nullptr) continue;
        d->proc = open->event_proc;
        d->ht_line = open->ht_line;
        d->ht_call = call->ht_call;
        return true;
      }
    }
  }
  return false;
}

void RemoteProvider::Deliver(const Delivery& d) {
  const Outgoing& item = d.item;
  LINEEVENT proc = d.proc;
  switch (item.kind) {
    case Outgoing::Kind::kCompletion:
      if (d.completion != nullptr) d.completion(item.request_id, item.result);
      break;
    case Outgoing::Kind::kCreate:
      if (proc != nullptr) {
        proc(nullptr, nullptr, LINE_CREATE, reinterpret_cast<DWORD_PTR>(d.hprovider), item.p2, 0);
      }
      break;
    case Outgoing::Kind::kRemove:
      if (proc != nullptr) proc(nullptr, nullptr, LINE_REMOVE, item.p1, 0, 0);
      break;
    case Outgoing::Kind::kPhoneCreate:
      if (d.phone_proc != nullptr) {
        d.phone_proc(nullptr, PHONE_CREATE, reinterpret_cast<DWORD_PTR>(d.hprovider), item.p2, 0);
      }
      break;
    case Outgoing::Kind::kPhoneRemove:
      if (d.phone_proc != nullptr) d.phone_proc(nullptr, PHONE_REMOVE, item.p1, 0, 0);
      break;
    case Outgoing::Kind::kPhoneEvent:
      if (d.phone_proc != nullptr) d.phone_proc(d.ht_phone, item.msg, item.p1, item.p2, item.p3);
      break;
    case Outgoing::Kind::kLineEvent:
    case Outgoing::Kind::kCallEvent:
      if (proc != nullptr) proc(d.ht_line, d.ht_call, item.msg, item.p1, item.p2, item.p3);
      break;
    case Outgoing::Kind::kNewCall: {
      HTAPICALL tapi_call = nullptr;
      if (proc != nullptr) {
        proc(d.ht_line, nullptr, LINE_NEWCALL, item.hd_call,
             reinterpret_cast<DWORD_PTR>(&tapi_call), 0);
      }
      absl::MutexLock lock(&mu_);
      CallEntry* call = calls_.Find(item.hd_call);
      if (call == nullptr) break;
      if (tapi_call == nullptr) {  // TAPI could not take the call: forget it
        call_by_id_.erase(call->call_id);
        calls_.Remove(item.hd_call);
      } else {
        call->ht_call = tapi_call;
      }
      break;
    }
  }
}

void RemoteProvider::QueuePhoneSendLocked(PhoneSend send) {
  if (dispatcher_stop_ || !initialized_) return;
  phone_sends_.push_back(std::move(send));
}

void RemoteProvider::DrainLocked() {
  if (draining_ || queue_.empty()) return;
  draining_ = true;
  Delivery d;
  while (TakeLocked(&d)) {
    // phoneClose waits for a PHONEEVENT of its phone being delivered now.
    delivering_phone_ = d.item.kind == Outgoing::Kind::kPhoneEvent ? d.item.hd_phone : 0;
    delivering_thread_ = std::this_thread::get_id();
    mu_.Unlock();
    Deliver(d);
    mu_.Lock();
    delivering_phone_ = 0;
  }
  draining_ = false;
}

void RemoteProvider::Dispatch() {
  absl::MutexLock lock(&mu_);
  for (;;) {
    // Whatever the threads that queued did not deliver themselves (a TSPI
    // function's thread never delivers; another drainer may be busy).
    auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return (!phone_sends_.empty() && !dispatcher_stop_) ||
             (!draining_ && (!queue_.empty() || dispatcher_stop_));
    };
    mu_.Await(absl::Condition(&ready));
    if (!phone_sends_.empty() && !dispatcher_stop_ && client_ != nullptr) {
      // Phone RPCs, in the order they were queued. Counted now: providerShutdown
      // waits for their answers before it releases the client.
      std::vector<PhoneSend> sends = std::move(phone_sends_);
      phone_sends_.clear();
      phone_rpcs_ += static_cast<int>(sends.size());
      Client* client = client_.get();
      mu_.Unlock();
      for (PhoneSend& send : sends) send(*client);
      mu_.Lock();
      continue;
    }
    if (queue_.empty()) return;  // stopping, everything delivered
    DrainLocked();
  }
}

}  // namespace linebridge::tsp
