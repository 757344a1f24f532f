// The public CPU kernels (fastrnn/{elman,lstm,gru}.hpp): pick the instruction-set variant once
// and forward every call to it. See isa.hpp for how the variants are built.
#include <cstdlib>
#include <cstring>

#include "fastrnn/cpu.hpp"
#include "fastrnn/elman.hpp"
#include "fastrnn/gru.hpp"
#include "fastrnn/interrupt.hpp"
#include "fastrnn/lstm.hpp"

#define FASTRNN_ISA_NS isa_baseline
#include "kernels.hpp"
#undef FASTRNN_ISA_NS
#if defined(FASTRNN_MULTI_ISA)
#define FASTRNN_ISA_NS isa_avx2
#include "kernels.hpp"
#undef FASTRNN_ISA_NS
#define FASTRNN_ISA_NS isa_avx512
#include "kernels.hpp"
#undef FASTRNN_ISA_NS
#endif

namespace fastrnn {
namespace {

enum class Isa { Baseline = 0, Avx2 = 1, Avx512 = 2 };

Isa detect() {
#if defined(FASTRNN_MULTI_ISA)
  __builtin_cpu_init();
  // x86-64-v4 and x86-64-v3 feature sets (the -march levels the variants are compiled for).
  const bool v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                  __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("avx");
  const bool v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                  __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                  __builtin_cpu_supports("avx512cd");
  Isa best = v4 ? Isa::Avx512 : (v3 ? Isa::Avx2 : Isa::Baseline);
#else
  Isa best = Isa::Baseline;
#endif
  if (const char* want = std::getenv("FASTRNN_ISA")) {
    Isa asked = best;
    if (!std::strcmp(want, "baseline")) asked = Isa::Baseline;
    else if (!std::strcmp(want, "avx2")) asked = Isa::Avx2;
    else if (!std::strcmp(want, "avx512")) asked = Isa::Avx512;
    if (asked < best) best = asked;
  }
  return best;
}

Isa active() {
  static const Isa isa = detect();
  return isa;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Interruption (fastrnn/interrupt.hpp): here because this file is compiled once, so every kernel
// variant reads the same thread-local state.
// ---------------------------------------------------------------------------------------------

namespace {
thread_local InterruptState* tl_interrupt = nullptr;
// The owner reads the clock only after about this much work (flops), so that tiny steps do not
// pay for a clock read each (~20 ns) and large ones still poll within ~a millisecond.
constexpr double kWorkPerClockRead = 1e6;
}  // namespace

ScopedInterrupt::ScopedInterrupt(InterruptPoll poll, void* ctx, double interval_s) {
  if (!poll) return;
  state_.poll = poll;
  state_.ctx = ctx;
  state_.interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(interval_s));
  state_.next_poll = std::chrono::steady_clock::now() + state_.interval;
  state_.outer = tl_interrupt;
  tl_interrupt = &state_;
  installed_ = true;
}

ScopedInterrupt::~ScopedInterrupt() {
  if (installed_) tl_interrupt = state_.outer;
}

bool ScopedInterrupt::requested() const {
  return installed_ && state_.stop.load(std::memory_order_relaxed);
}

InterruptState* current_interrupt() { return tl_interrupt; }

bool interrupt_requested(const InterruptState* s) {
  return s && s->stop.load(std::memory_order_relaxed);
}

bool interrupted(InterruptState* s, double work) {
  if (!s) return false;
  if (s->stop.load(std::memory_order_relaxed)) return true;
  if (tl_interrupt != s) return false;  // a worker thread of the call: the flag only
  s->work_since_clock += work;
  if (s->work_since_clock < kWorkPerClockRead) return false;
  s->work_since_clock = 0;
  const auto now = std::chrono::steady_clock::now();
  if (now < s->next_poll) return false;
  if (s->poll(s->ctx)) {
    s->stop.store(true, std::memory_order_relaxed);
    return true;
  }
  s->next_poll = std::chrono::steady_clock::now() + s->interval;
  return false;
}

const char* cpu_isa() {
  switch (active()) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    default: return "baseline";
  }
}

#if defined(FASTRNN_MULTI_ISA)
#define FASTRNN_DISPATCH(fn, ...)                                                     \
  switch (active()) {                                                                 \
    case Isa::Avx512: return isa_avx512::fn<T>(__VA_ARGS__);                          \
    case Isa::Avx2: return isa_avx2::fn<T>(__VA_ARGS__);                              \
    default: return isa_baseline::fn<T>(__VA_ARGS__);                                 \
  }
#else
#define FASTRNN_DISPATCH(fn, ...) return isa_baseline::fn<T>(__VA_ARGS__);
#endif

template <class T>
void elman_forward(int64_t B, int64_t T_, int64_t I, int64_t H, Activation act, const T* x,
                   const T* W, const T* U, const T* b, const T* h0, T* h_seq, const uint8_t* mask) {
  FASTRNN_DISPATCH(elman_forward, B, T_, I, H, act, x, W, U, b, h0, h_seq, mask)
}

template <class T>
void elman_backward(int64_t B, int64_t T_, int64_t I, int64_t H, Activation act, const T* x,
                    const T* W, const T* U, const T* h0, const T* h_seq, const T* dh_seq,
                    const T* dh_last, T* dx, T* dW, T* dU, T* db, T* dh0, const uint8_t* mask) {
  FASTRNN_DISPATCH(elman_backward, B, T_, I, H, act, x, W, U, h0, h_seq, dh_seq, dh_last, dx, dW,
                   dU, db, dh0, mask)
}

template <class T>
void lstm_forward(int64_t B, int64_t T_, int64_t I, int64_t H, Activation act, const T* x,
                  const T* W, const T* U, const T* b, const T* h0, const T* c0, T* h_seq,
                  T* c_seq, T* gates, const uint8_t* mask) {
  FASTRNN_DISPATCH(lstm_forward, B, T_, I, H, act, x, W, U, b, h0, c0, h_seq, c_seq, gates, mask)
}

template <class T>
void lstm_backward(int64_t B, int64_t T_, int64_t I, int64_t H, Activation act, const T* x,
                   const T* W, const T* U, const T* h0, const T* c0, const T* h_seq,
                   const T* c_seq, const T* gates, const T* dh_seq, const T* dh_last,
                   const T* dc_last, T* dx, T* dW, T* dU, T* db, T* dh0, T* dc0,
                   const uint8_t* mask) {
  FASTRNN_DISPATCH(lstm_backward, B, T_, I, H, act, x, W, U, h0, c0, h_seq, c_seq, gates, dh_seq,
                   dh_last, dc_last, dx, dW, dU, db, dh0, dc0, mask)
}

template <class T>
void gru_forward(int64_t B, int64_t T_, int64_t I, int64_t H, bool reset_after, Activation act,
                 const T* x, const T* W, const T* U, const T* b, const T* h0, T* h_seq, T* gates,
                 T* rec_h, const uint8_t* mask) {
  FASTRNN_DISPATCH(gru_forward, B, T_, I, H, reset_after, act, x, W, U, b, h0, h_seq, gates, rec_h,
                   mask)
}

template <class T>
void gru_backward(int64_t B, int64_t T_, int64_t I, int64_t H, bool reset_after, Activation act,
                  const T* x, const T* W, const T* U, const T* h0, const T* h_seq,
                  const T* gates, const T* rec_h, const T* dh_seq, const T* dh_last, T* dx, T* dW,
                  T* dU, T* db, T* dh0, const uint8_t* mask) {
  FASTRNN_DISPATCH(gru_backward, B, T_, I, H, reset_after, act, x, W, U, h0, h_seq, gates, rec_h,
                   dh_seq, dh_last, dx, dW, dU, db, dh0, mask)
}

#define FASTRNN_INSTANTIATE(T)                                                                  \
  template void elman_forward<T>(int64_t, int64_t, int64_t, int64_t, Activation, const T*,      \
                                 const T*, const T*, const T*, const T*, T*, const uint8_t*);   \
  template void elman_backward<T>(int64_t, int64_t, int64_t, int64_t, Activation, const T*,     \
                                  const T*, const T*, const T*, const T*, const T*, const T*,   \
                                  T*, T*, T*, T*, T*, const uint8_t*);                          \
  template void lstm_forward<T>(int64_t, int64_t, int64_t, int64_t, Activation, const T*,       \
                                const T*, const T*, const T*, const T*, const T*, T*, T*, T*,   \
                                const uint8_t*);                                                \
  template void lstm_backward<T>(int64_t, int64_t, int64_t, int64_t, Activation, const T*,      \
                                 const T*, const T*, const T*, const T*, const T*, const T*,    \
                                 const T*, const T*, const T*, const T*, T*, T*, T*, T*, T*,    \
                                 T*, const uint8_t*);                                           \
  template void gru_forward<T>(int64_t, int64_t, int64_t, int64_t, bool, Activation, const T*,  \
                               const T*, const T*, const T*, const T*, T*, T*, T*,             \
                               const uint8_t*);                                                 \
  template void gru_backward<T>(int64_t, int64_t, int64_t, int64_t, bool, Activation, const T*, \
                                const T*, const T*, const T*, const T*, const T*, const T*,     \
                                const T*, const T*, T*, T*, T*, T*, T*, const uint8_t*);
FASTRNN_INSTANTIATE(float)
FASTRNN_INSTANTIATE(double)

}  // namespace fastrnn
