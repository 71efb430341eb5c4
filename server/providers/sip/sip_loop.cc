#include "providers/sip/sip_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>

#include <utility>

#include "absl/time/clock.h"
#include "linebridge/deadline.h"

namespace linebridge::sip {

SipLoop::~SipLoop() {
  Stop();
  Join();
  if (event_fd_ >= 0) ::close(event_fd_);
}

absl::Status SipLoop::Start(std::function<absl::Status(su_root_t*)> init,
                            std::function<void()> fini) {
  event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (event_fd_ < 0) return absl::InternalError("sip: eventfd failed");
  fini_ = std::move(fini);
  {
    absl::MutexLock lock(&mu_);
    started_ = true;
  }
  thread_ = std::thread([this, init = std::move(init)]() mutable { Run(std::move(init)); });
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&init_done_));
  return init_status_;
}

void SipLoop::Run(std::function<absl::Status(su_root_t*)> init) {
  su_init();
  root_ = su_root_create(this);
  absl::Status status = root_ != nullptr ? absl::OkStatus()
                                         : absl::InternalError("sip: su_root_create failed");
  if (status.ok()) {
    su_wait_create(wait_, event_fd_, SU_WAIT_IN);
    su_root_register(root_, wait_, &SipLoop::OnWake, this, su_pri_normal);
    status = init(root_);
  }
  const bool run = status.ok();
  {
    absl::MutexLock lock(&mu_);
    init_status_ = status;
    init_done_ = true;
  }
  if (run) {
    su_root_run(root_);
    Drain();
  }
  if (fini_) fini_();
  if (root_ != nullptr) su_root_destroy(root_);
  root_ = nullptr;
  su_deinit();
}

int SipLoop::OnWake(void* magic, su_wait_t*, void*) {
  auto* self = static_cast<SipLoop*>(magic);
  uint64_t n = 0;
  (void)!::read(self->event_fd_, &n, sizeof(n));
  self->Drain();
  if (self->stopping_.load()) su_root_break(self->root_);
  return 0;
}

void SipLoop::Drain() {
  for (;;) {
    std::function<void()> fn;
    {
      absl::MutexLock lock(&mu_);
      if (queue_.empty()) return;
      fn = std::move(queue_.front());
      queue_.pop_front();
    }
    fn();
  }
}

void SipLoop::Post(std::function<void()> fn) {
  if (stopping_.load()) return;
  {
    absl::MutexLock lock(&mu_);
    queue_.push_back(std::move(fn));
  }
  const uint64_t one = 1;
  if (event_fd_ >= 0) (void)!::write(event_fd_, &one, sizeof(one));
}

void SipLoop::Stop() {
  if (stopping_.exchange(true)) return;
  const uint64_t one = 1;
  if (event_fd_ >= 0) (void)!::write(event_fd_, &one, sizeof(one));
}

bool SipLoop::StepUntil(su_root_t* root, absl::Duration timeout, const std::function<bool()>& done) {
  const absl::Time deadline = MonotonicNow() + timeout;
  while (!done()) {
    if (MonotonicNow() >= deadline) return false;
    su_root_step(root, 50);
  }
  return true;
}

void SipLoop::Join() {
  if (thread_.joinable() && !OnLoopThread()) thread_.join();
}

}  // namespace linebridge::sip
