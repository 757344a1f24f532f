// Ctrl-C for long kernel calls: cooperative interruption at time-step, chunk and batch
// boundaries.
//
// The kernels and the fused trainer run with the GIL released, so the interpreter cannot act on
// a signal until they return (a fused epoch or a long sequence can take minutes). A caller that
// wants a call to be interruptible installs a poll function on its thread for the duration of
// the call (ScopedInterrupt); the kernels read the calling thread's state once at entry
// (current_interrupt()) and call interrupted() at boundaries. Only the thread that installed the
// poll calls it (rate-limited: by work done, then by the clock), and it alone may talk to Python
// there; every other thread of the call (the kernel's worker threads) only reads the flag the
// poll sets. Once interrupted() is true the kernels skip what is left of the call: its outputs
// are then incomplete, and the caller must discard them (ScopedInterrupt::requested()).
//
// Defined in csrc/cpu/dispatch.cpp, compiled once (not per instruction set: isa.hpp), so that
// every kernel variant shares one thread-local state.
#pragma once

#include <atomic>
#include <chrono>

namespace fastrnn {

// Returns true when the call must stop (e.g. a KeyboardInterrupt was raised).
using InterruptPoll = bool (*)(void* ctx);

struct InterruptState {
  InterruptPoll poll = nullptr;
  void* ctx = nullptr;
  std::chrono::steady_clock::duration interval{};
  std::chrono::steady_clock::time_point next_poll{};
  double work_since_clock = 0;  // owner thread only
  std::atomic<bool> stop{false};
  InterruptState* outer = nullptr;  // the state this one shadows on the same thread
};

// Installs `poll` on the calling thread for its lifetime; nested scopes shadow outer ones. A
// null poll installs nothing (the call cannot be interrupted).
class ScopedInterrupt {
 public:
  explicit ScopedInterrupt(InterruptPoll poll, void* ctx = nullptr, double interval_s = 0.1);
  ~ScopedInterrupt();
  ScopedInterrupt(const ScopedInterrupt&) = delete;
  ScopedInterrupt& operator=(const ScopedInterrupt&) = delete;
  // Whether the call was interrupted (its outputs are incomplete).
  bool requested() const;

 private:
  InterruptState state_;
  bool installed_ = false;
};

// The interrupt state of the call the current thread is making, or null (nothing installed).
InterruptState* current_interrupt();

// Called at a boundary by any thread of the call with roughly the flops done since its last
// call; true once the call must stop. Null `s`: always false.
bool interrupted(InterruptState* s, double work);

// The flag alone (no poll): true once the call must stop.
bool interrupt_requested(const InterruptState* s);

}  // namespace fastrnn
