// The kernels' thread pool (pool.hpp).
//
// One 64-bit atomic word holds a call's generation, its slice count and the next unclaimed
// slice, so a claim is one compare-and-swap that also checks the call is still the one the
// worker woke for: a worker that wakes late can never take a slice of a later call, and the
// caller's task and context stay valid while any slice of its call is unfinished.
#include "fastrnn/pool.hpp"

#include "fastrnn/interrupt.hpp"

#include <sched.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define FASTRNN_PAUSE() _mm_pause()
#else
#define FASTRNN_PAUSE() std::this_thread::yield()
#endif

namespace fastrnn {
namespace pool {
namespace {

// How long an idle worker keeps looking for work before it sleeps. Kernel calls in a training
// loop come tens of microseconds apart, and waking a sleeping thread costs about as much, so a
// worker that has just finished keeps watching; while it watches it yields its core to any
// other runnable thread, so a busy neighbour loses (almost) nothing.
constexpr auto kIdleWatch = std::chrono::microseconds(300);

constexpr uint64_t kSliceBits = 16, kSliceMask = (uint64_t(1) << kSliceBits) - 1;
inline uint64_t pack(uint64_t gen, uint64_t slices, uint64_t next) {
  return (gen << (2 * kSliceBits)) | (slices << kSliceBits) | next;
}
inline uint64_t gen_of(uint64_t s) { return s >> (2 * kSliceBits); }
inline uint64_t slices_of(uint64_t s) { return (s >> kSliceBits) & kSliceMask; }
inline uint64_t next_of(uint64_t s) { return s & kSliceMask; }

int default_threads() {
  for (const char* name : {"FASTRNN_NUM_THREADS", "OMP_NUM_THREADS"}) {
    if (const char* v = std::getenv(name)) {
      char* end = nullptr;
      const long n = std::strtol(v, &end, 10);  // "4,2" (OpenMP nesting) reads as 4
      if (end != v && n >= 1) return n > 1024 ? 1024 : static_cast<int>(n);
    }
  }
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n >= 1) return n;
  }
  const unsigned n = std::thread::hardware_concurrency();
  return n >= 1 ? static_cast<int>(n) : 1;
}

struct Pool {
  std::atomic<uint64_t> state{0};
  std::atomic<int> done{0};
  void (*task)(void*, int) = nullptr;
  void* ctx = nullptr;
  std::atomic<int> max_threads{0};  // 0: not read from the environment yet
  std::mutex dispatch;              // one parallel call at a time
  std::mutex sleep_mutex;
  std::condition_variable wake;
  std::atomic<int> sleepers{0};
  int workers = 0;                  // started; guarded by dispatch
  int serial_left = 0, penalty = 0; // the backoff of run(); guarded by dispatch
};

// Leaked on purpose: workers may outlive static destruction at exit.
Pool* the_pool = new Pool;
thread_local bool inside_task = false;

// Runs the slices of the call with generation `gen` that are still unclaimed.
void claim_slices(Pool& p, uint64_t gen) {
  uint64_t s = p.state.load(std::memory_order_acquire);
  while (gen_of(s) == gen && next_of(s) < slices_of(s)) {
    if (p.state.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
      const bool outer = inside_task;
      inside_task = true;
      p.task(p.ctx, static_cast<int>(next_of(s)));
      inside_task = outer;
      p.done.fetch_add(1, std::memory_order_acq_rel);
      s = p.state.load(std::memory_order_acquire);
    }
  }
}

void worker_loop(Pool* pool) {
  Pool& p = *pool;
  uint64_t seen = gen_of(p.state.load(std::memory_order_acquire));
  for (;;) {
    auto changed = [&] { return gen_of(p.state.load(std::memory_order_seq_cst)) != seen; };
    const auto deadline = std::chrono::steady_clock::now() + kIdleWatch;
    bool found = false;
    for (int i = 0; !found; ++i) {
      if (changed()) { found = true; break; }
      if (i < 64) FASTRNN_PAUSE();
      else if (std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
      else break;
    }
    if (!found) {
      std::unique_lock<std::mutex> lock(p.sleep_mutex);
      p.sleepers.fetch_add(1, std::memory_order_seq_cst);
      p.wake.wait(lock, changed);
      p.sleepers.fetch_sub(1, std::memory_order_relaxed);
    }
    seen = gen_of(p.state.load(std::memory_order_acquire));
    claim_slices(p, seen);
  }
}

void start_workers(Pool& p, int wanted) {
  for (; p.workers < wanted; ++p.workers) {
    try {
      std::thread(worker_loop, &p).detach();
    } catch (...) {  // no more threads: the calls still complete, on fewer threads
      return;
    }
  }
}

// A forked child has only the forking thread: give it a fresh pool (the parent's workers and
// possibly held mutexes do not exist there). The old one is leaked; it is a few hundred bytes.
void reset_after_fork() {
  const int n = the_pool->max_threads.load();
  the_pool = new Pool;
  the_pool->max_threads.store(n);
}

struct ForkHandler {
  ForkHandler() { pthread_atfork(nullptr, nullptr, reset_after_fork); }
} fork_handler;

}  // namespace

int max_threads() {
  Pool& p = *the_pool;
  int n = p.max_threads.load(std::memory_order_relaxed);
  if (n == 0) {
    n = default_threads();
    int expected = 0;
    if (!p.max_threads.compare_exchange_strong(expected, n)) n = expected;
  }
  return n;
}

void set_max_threads(int n) { the_pool->max_threads.store(n < 1 ? 1 : n); }

void run(int slices, void (*task)(void*, int), void* ctx) {
  Pool& p = *the_pool;
  const auto serial = [&] {
    for (int s = 0; s < slices; ++s) task(ctx, s);
  };
  if (slices <= 1 || slices > static_cast<int>(kSliceMask) || inside_task) return serial();
  std::unique_lock<std::mutex> lock(p.dispatch, std::try_to_lock);
  if (!lock.owns_lock()) return serial();
  if (p.serial_left > 0) {
    --p.serial_left;
    return serial();
  }
  start_workers(p, std::min(slices, max_threads()) - 1);
  if (p.workers == 0) return serial();
  const auto start = std::chrono::steady_clock::now();

  p.task = task;
  p.ctx = ctx;
  p.done.store(0, std::memory_order_relaxed);
  const uint64_t gen = (gen_of(p.state.load(std::memory_order_relaxed)) + 1) &
                       ((uint64_t(1) << (64 - 2 * kSliceBits)) - 1);
  p.state.store(pack(gen, slices, 0), std::memory_order_seq_cst);
  if (p.sleepers.load(std::memory_order_seq_cst) > 0) {
    { std::lock_guard<std::mutex> guard(p.sleep_mutex); }
    p.wake.notify_all();
  }
  claim_slices(p, gen);
  const auto own_done = std::chrono::steady_clock::now();
  InterruptState* const interrupt = current_interrupt();
  for (int i = 0; p.done.load(std::memory_order_acquire) < slices; ++i) {
    if (i < 256) {
      FASTRNN_PAUSE();
    } else {
      std::this_thread::yield();  // a worker holding a slice may be waiting for this core
      // Only the calling thread may poll for Ctrl-C (interrupt.hpp); the workers only read the
      // flag, so a caller left waiting must keep polling for them. The work figure makes the
      // poll consult its clock each time.
      interrupted(interrupt, 1e9);
    }
  }
  // Threads chosen by what is free: a worker that took a slice and then lost its core (another
  // process wants it) makes the caller wait for a whole scheduler time slice. When the wait
  // exceeds half the caller's own work, the next calls run on the caller alone, for twice as
  // many calls each time it happens again (up to 1024 calls, about a second of train-small);
  // every call that goes well halves the count.
  const auto waited = std::chrono::steady_clock::now() - own_done, own = own_done - start;
  if (waited > std::chrono::microseconds(20) && waited * 2 > own) {
    p.penalty = std::min(p.penalty > 0 ? 2 * p.penalty : 1, 1024);
    p.serial_left = p.penalty;
  } else {
    p.penalty /= 2;
  }
}

}  // namespace pool
}  // namespace fastrnn
