// Helpers shared by the CPU cell kernels: scratch buffers, the batch-parallel region, gate
// functions specialised per activation, bias broadcast, column sums, the shifted state sequence,
// and the reduction of per-thread weight gradients. Compiled per instruction set (isa.hpp).
//
// Threading model: one parallel call of the pool (fastrnn/pool.hpp) per kernel call. Each slice
// is a contiguous part of the batch whose whole time loop one thread runs, so there is no
// synchronisation per step; with batch-first storage a slice of rows [b0, b1) is also a
// contiguous block of (b, t) rows, so the input projection and the weight-gradient products are
// single products per slice. Weight gradients are summed per slice into private slots and added
// up once at the end. Nothing inside a slice allocates or throws (pool::run's tasks must not
// throw): scratch space is allocated before it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "fastmath.hpp"
#include "gemm.hpp"
#include "fastrnn/activations.hpp"  // the Activation enum (its functions are for other users)
#include "fastrnn/interrupt.hpp"
#include "isa.hpp"
#include "fastrnn/pool.hpp"

namespace fastrnn {
namespace FASTRNN_ISA_NS {
namespace detail {

// Small zero-initialised scratch array (new[] instead of std::vector: see isa.hpp).
template <class T>
class Buffer {
 public:
  explicit Buffer(int64_t n) : p_(n > 0 ? new T[n]() : nullptr) {}
  ~Buffer() { delete[] p_; }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  T* data() { return p_; }
  const T* data() const { return p_; }

 private:
  T* p_;
};

// Uninitialised scratch arrays carved from one block that each calling thread keeps between
// calls (up to kArenaKeepBytes), so that repeated calls, as in training, do not pay for fresh
// pages (a page fault and a kernel zero-fill per 4 KiB) every time. Larger blocks are freed after
// the call. The limit is above the train-large LSTM's backward scratch (dZ alone is 512 MiB),
// which below it would come from fresh pages on every call (bench/NOTES.md section 11). Only one
// ScratchArrays may be alive per thread at a time (each kernel makes one; no kernel calls
// another while holding it).
constexpr size_t kArenaKeepBytes = size_t(1) << 30;

struct ThreadArena {
  char* p = nullptr;
  size_t capacity = 0;
  ~ThreadArena() { delete[] p; }
};

template <class T, int N>
class ScratchArrays {
 public:
  explicit ScratchArrays(const int64_t (&sizes)[N]) {
    size_t offset[N], total = 0;
    for (int i = 0; i < N; ++i) {
      offset[i] = total;
      total += (size_t(sizes[i] > 0 ? sizes[i] : 0) * sizeof(T) + 63) / 64 * 64;
    }
    static thread_local ThreadArena arena;
    char* base;
    if (total > kArenaKeepBytes) {
      base = owned_ = new char[total];
    } else {
      if (total > arena.capacity) {
        delete[] arena.p;
        arena.p = nullptr;
        arena.capacity = 0;
        arena.p = new char[total];
        arena.capacity = total;
      }
      base = arena.p;
    }
    for (int i = 0; i < N; ++i)
      ptr_[i] = sizes[i] > 0 ? reinterpret_cast<T*>(base + offset[i]) : nullptr;
  }
  ~ScratchArrays() { delete[] owned_; }
  ScratchArrays(const ScratchArrays&) = delete;
  ScratchArrays& operator=(const ScratchArrays&) = delete;
  T* operator[](int i) const { return ptr_[i]; }

 private:
  T* ptr_[N];
  char* owned_ = nullptr;
};

// Threads worth using: one per batch row at most, and one in all when the whole call is too
// small to repay waking a team (about 0.2 MFLOP, a few microseconds of arithmetic).
inline int plan_threads(int64_t batch, double flops) {
  if (flops < 2e5 || batch < 2) return 1;
  const int64_t max_threads = pool::max_threads();
  return static_cast<int>(batch < max_threads ? batch : max_threads);
}

// Calls fn(b0, b1, slot) for a partition of [0, batch) into `threads` slices (slot: the slice's
// index, whichever thread runs it).
template <class F>
void for_batch_slices(int threads, int64_t batch, F&& fn) {
  if (threads <= 1) {
    fn(int64_t(0), batch, 0);
    return;
  }
  struct Call {
    F* fn;
    int64_t batch, slices;
  } call{&fn, batch, threads};
  pool::run(threads, [](void* ctx, int s) {
    const Call& c = *static_cast<const Call*>(ctx);
    (*c.fn)(c.batch * s / c.slices, c.batch * (s + 1) / c.slices, s);
  }, &call);
}

// Interruption (fastrnn/interrupt.hpp): a kernel reads its caller's state once, at entry (on the
// calling thread), and every thread of the call asks at its step and chunk boundaries, passing
// the flops done since its last question. Once it says stop, a slice skips the rest of its work.
struct Stop {
  InterruptState* s = current_interrupt();
  bool operator()(double work) const { return s != nullptr && interrupted(s, work); }
  bool requested() const { return s != nullptr && interrupt_requested(s); }
};

// Gate functions with the activation fixed at compile time, so the pointwise loops vectorise.
template <Activation A, class T>
inline T act(T v) {
  if constexpr (A == Activation::Tanh) return fastmath::tanh(v);
  else if constexpr (A == Activation::Relu) return v > T(0) ? v : T(0);
  else if constexpr (A == Activation::Sigmoid) return fastmath::sigmoid(v);
  else return v;
}

// d act / d pre-activation, written through the output y = act(pre).
template <Activation A, class T>
inline T act_grad(T y) {
  if constexpr (A == Activation::Tanh) return T(1) - y * y;
  else if constexpr (A == Activation::Relu) return y > T(0) ? T(1) : T(0);
  else if constexpr (A == Activation::Sigmoid) return y * (T(1) - y);
  else return T(1);
}

template <class T>
inline T sigmoid(T v) { return fastmath::sigmoid(v); }

// Calls f(std::integral_constant<Activation, a>{}): one switch per call site, not per element.
template <class F>
void with_activation(Activation a, F&& f) {
  switch (a) {
    case Activation::Tanh: f(std::integral_constant<Activation, Activation::Tanh>{}); break;
    case Activation::Relu: f(std::integral_constant<Activation, Activation::Relu>{}); break;
    case Activation::Sigmoid: f(std::integral_constant<Activation, Activation::Sigmoid>{}); break;
    default: f(std::integral_constant<Activation, Activation::Linear>{}); break;
  }
}

// rows x n block with row stride ld: each row = bias (or zeros when bias is null).
template <class T>
void broadcast_rows(int64_t rows, int64_t n, const T* bias, T* out, int64_t ld) {
  for (int64_t r = 0; r < rows; ++r) {
    if (bias) std::memcpy(out + r * ld, bias, sizeof(T) * n);
    else std::memset(out + r * ld, 0, sizeof(T) * n);
  }
}

// Z rows = bias + x rows W (the input projection of `rows` (b, t) rows: x (rows, I), W (I, G),
// Z (rows, G)), in chunks of rows with an interruption point after each (at large sizes the
// projection is seconds of work). Rows are independent and gemm sums each element in the same
// order whatever the row count, so the chunks change no result. False when interrupted.
template <class T>
bool project_rows(int64_t rows, int64_t I, int64_t G, const T* x, const T* W, const T* bias, T* Z,
                  const Stop& stop) {
  const int64_t per_row = 2 * G * (I > 0 ? I : 1);
  const int64_t chunk = std::max<int64_t>(64, (int64_t(1) << 25) / per_row);
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    const int64_t n = std::min(chunk, rows - r0);
    broadcast_rows(n, G, bias, Z + r0 * G, G);
    gemm<T>(false, n, G, I, x + r0 * I, I, W, G, Z + r0 * G, G, true);
    if (stop(double(n) * double(per_row))) return false;
  }
  return true;
}

// out[j] += sum_r in[r * ld + j]
template <class T>
void add_column_sums(int64_t rows, int64_t n, const T* in, int64_t ld, T* __restrict out) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* __restrict row = in + r * ld;
    for (int64_t j = 0; j < n; ++j) out[j] += row[j];
  }
}

// prev[b, t] = state before step t: h0[b] (or zeros) at t = 0, seq[b, t - 1] after; rows [b0, b1).
template <class T>
void shifted_states(int64_t b0, int64_t b1, int64_t T_, int64_t H, const T* h0, const T* seq,
                    T* prev) {
  if (T_ == 0) return;
  for (int64_t b = b0; b < b1; ++b) {
    T* p = prev + b * T_ * H;
    if (h0) std::memcpy(p, h0 + b * H, sizeof(T) * H);
    else std::memset(p, 0, sizeof(T) * H);
    if (T_ > 1) std::memcpy(p + H, seq + b * T_ * H, sizeof(T) * (T_ - 1) * H);
  }
}

// The initial state of rows [b0, b0 + n): h0's rows, or `zeros` (a row of H zeros, stride 0).
template <class T>
struct Rows {
  const T* p;
  int64_t ld;
  const T* row(int64_t r) const { return p + r * ld; }
};
template <class T>
Rows<T> initial_rows(const T* h0, int64_t b0, int64_t H, const T* zeros) {
  return h0 ? Rows<T>{h0 + b0 * H, H} : Rows<T>{zeros, 0};
}

// Keras step masks (fastrnn/elman.hpp): true when step t of sample b is skipped (mask given and
// 0 there). A skipped step's candidate is still computed with the rest of its block's rows (one
// product per step for all rows); the kernels then copy the previous states over it, and the
// backward pass zeroes its pre-activation gradients (so dx, dW, dU, db get nothing from it) and
// hands dL/dh_t (and dL/dc_t) on to step t - 1 unchanged. Masked calls take the row path: the
// narrow panels would need a masked copy of every column they move.
inline bool skipped(const uint8_t* mask, int64_t b, int64_t T_, int64_t t) {
  return mask != nullptr && mask[b * T_ + t] == 0;
}

// dst = src (a row of H), or zeros when src is null.
template <class T>
inline void copy_row(int64_t H, const T* src, T* dst) {
  if (src) std::memcpy(dst, src, sizeof(T) * H);
  else std::memset(dst, 0, sizeof(T) * H);
}

// dst += src, a row of H (src may be null: nothing to add).
template <class T>
inline void add_row(int64_t H, const T* __restrict src, T* __restrict dst) {
  if (src)
    for (int64_t j = 0; j < H; ++j) dst[j] += src[j];
}

// Rows per block of the time loop on the row path. A slice's rows run the whole sequence block by
// block, so that a step's product output (rows x G values, rows T G apart in the gates array)
// and the block's states stay in L2 across steps instead of the whole slice's (at train-large,
// 256 rows x 1024 gates per slice, a whole-slice step touches ~2 MB with U, more than a core's
// L2; bench/NOTES.md section 9). Layers up to train-medium keep one block per slice.
template <class T>
int64_t time_block_rows(int64_t rows, int64_t G) {
  const int64_t fit = (int64_t(256) << 10) / (G * int64_t(sizeof(T)));
  return std::min(rows, std::max<int64_t>(8, fit / 8 * 8));
}

// Narrow layers (H below one vector of lanes) cannot vectorise the pointwise pass along a row;
// the "panel" path copies a step's rows into column-major panels (panel[j * rows + r]), runs the
// same row function over all rows x H values at once, and copies the results back. The copies
// are plain moves; the gate functions they make vectorisable cost far more than a move per value
// when scalar (an LSTM unit evaluates five). Callers use it when narrow(H) and rows > 1.
template <class T>
inline bool narrow(int64_t H, int64_t rows) {
  return rows > 1 && H < vector_lanes<T>();
}

template <class T>
inline void swap_pointers(T*& a, T*& b) {
  T* t = a;
  a = b;
  b = t;
}

// dst[c * ldd + r] = src[r * lds + c] for r < nr, c < nc: the move behind every panel copy.
// 4 x 4 blocks (8 x 8 floats with AVX) go through registers (four row loads, eight shuffles,
// four column stores) instead of sixteen scalar moves with their index arithmetic; at the
// fit-seed shape the scalar copies were over half of an LSTM epoch's instructions
// (callgrind). Only moves: the values are those of the scalar loop.
#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
#define FASTRNN_HAS_SHUFFLEVECTOR 1
#endif
#endif
template <class T>
void transpose_into(int64_t nr, int64_t nc, const T* src, int64_t lds, T* __restrict dst,
                    int64_t ldd) {
  int64_t r = 0;
#if defined(FASTRNN_HAS_SHUFFLEVECTOR) && defined(__AVX__)
  if constexpr (sizeof(T) == 4) {  // 8 x 8 floats with 256-bit vectors: 24 shuffles per 64 moves
    typedef T V8 __attribute__((vector_size(8 * sizeof(T))));
    auto load8 = [](const T* p) { V8 v; std::memcpy(&v, p, sizeof(V8)); return v; };
    auto store8 = [](T* p, const V8& v) { std::memcpy(p, &v, sizeof(V8)); };
    for (; r + 8 <= nr && nc >= 8; r += 8) {
      const T* s = src + r * lds;
      T* d = dst + r;
      int64_t c = 0;
      for (; c + 8 <= nc; c += 8) {
        V8 a[8], t[8], u[8];
        for (int q = 0; q < 8; ++q) a[q] = load8(s + q * lds + c);
        for (int q = 0; q < 8; q += 2) {  // within 128-bit halves: pairs of rows interleaved
          t[q] = __builtin_shufflevector(a[q], a[q + 1], 0, 8, 1, 9, 4, 12, 5, 13);
          t[q + 1] = __builtin_shufflevector(a[q], a[q + 1], 2, 10, 3, 11, 6, 14, 7, 15);
        }
        for (int q = 0; q < 8; q += 4) {  // then quadruples of rows
          u[q] = __builtin_shufflevector(t[q], t[q + 2], 0, 1, 8, 9, 4, 5, 12, 13);
          u[q + 1] = __builtin_shufflevector(t[q], t[q + 2], 2, 3, 10, 11, 6, 7, 14, 15);
          u[q + 2] = __builtin_shufflevector(t[q + 1], t[q + 3], 0, 1, 8, 9, 4, 5, 12, 13);
          u[q + 3] = __builtin_shufflevector(t[q + 1], t[q + 3], 2, 3, 10, 11, 6, 7, 14, 15);
        }
        for (int q = 0; q < 4; ++q) {  // then across the halves: columns q and q + 4
          store8(d + (c + q) * ldd, __builtin_shufflevector(u[q], u[q + 4], 0, 1, 2, 3, 8, 9, 10, 11));
          store8(d + (c + q + 4) * ldd,
                 __builtin_shufflevector(u[q], u[q + 4], 4, 5, 6, 7, 12, 13, 14, 15));
        }
      }
      for (; c < nc; ++c)
        for (int q = 0; q < 8; ++q) d[c * ldd + q] = s[q * lds + c];
    }
  }
#endif
#if defined(FASTRNN_HAS_SHUFFLEVECTOR)
  typedef T V __attribute__((vector_size(4 * sizeof(T))));
  auto load = [](const T* p) { V v; std::memcpy(&v, p, sizeof(V)); return v; };
  auto store = [](T* p, const V& v) { std::memcpy(p, &v, sizeof(V)); };
  for (; r + 4 <= nr; r += 4) {
    const T* s = src + r * lds;
    T* d = dst + r;
    int64_t c = 0;
    for (; c + 4 <= nc; c += 4) {
      const V a = load(s + c), b = load(s + lds + c), e = load(s + 2 * lds + c),
              f = load(s + 3 * lds + c);
      const V ab0 = __builtin_shufflevector(a, b, 0, 4, 1, 5);  // a0 b0 a1 b1
      const V ab1 = __builtin_shufflevector(a, b, 2, 6, 3, 7);  // a2 b2 a3 b3
      const V ef0 = __builtin_shufflevector(e, f, 0, 4, 1, 5);
      const V ef1 = __builtin_shufflevector(e, f, 2, 6, 3, 7);
      store(d + c * ldd, __builtin_shufflevector(ab0, ef0, 0, 1, 4, 5));
      store(d + (c + 1) * ldd, __builtin_shufflevector(ab0, ef0, 2, 3, 6, 7));
      store(d + (c + 2) * ldd, __builtin_shufflevector(ab1, ef1, 0, 1, 4, 5));
      store(d + (c + 3) * ldd, __builtin_shufflevector(ab1, ef1, 2, 3, 6, 7));
    }
    for (; c < nc; ++c)
      for (int q = 0; q < 4; ++q) d[c * ldd + q] = s[q * lds + c];
  }
#endif
  for (; r < nr; ++r)
    for (int64_t c = 0; c < nc; ++c) dst[c * ldd + r] = src[r * lds + c];
}

// panel[j * rows + r] = src[r * ld + j] for j < H (ld may be 0: every row the same).
template <class T>
void gather_panel(int64_t rows, int64_t H, const T* src, int64_t ld, T* __restrict panel) {
  if (ld == 0) {
    for (int64_t j = 0; j < H; ++j)
      for (int64_t r = 0; r < rows; ++r) panel[j * rows + r] = src[j];
    return;
  }
  transpose_into(rows, H, src, ld, panel, rows);
}

// dst[r * ld + j] = panel[j * rows + r]
template <class T>
void scatter_panel(int64_t rows, int64_t H, const T* __restrict panel, T* dst, int64_t ld) {
  transpose_into(H, rows, panel, rows, dst, ld);
}

// The same for `blocks` gate blocks of H per row (block g of row r at src + r * ld + g * H),
// into consecutive panels of rows * H: the blocks are adjacent in both layouts, so this is one
// panel of blocks * H columns (which keeps the 4 x 4 moves whole when H is not a multiple of 4).
template <class T>
void gather_blocks(int64_t rows, int64_t H, int blocks, const T* src, int64_t ld, T* panel) {
  gather_panel(rows, blocks * H, src, ld, panel);
}
template <class T>
void scatter_blocks(int64_t rows, int64_t H, int blocks, const T* panel, T* dst, int64_t ld) {
  scatter_panel(rows, blocks * H, panel, dst, ld);
}

// dx rows = dZ rows @ W^T for `rows` rows of G gate gradients. With few input features the
// product is narrower than a vector, so it is computed as dot products against W's rows (W is
// (I, G): exactly the rows needed) instead of through gemm's scalar column tail; otherwise
// through gemm with W^T (G, I), which the caller transposed once.
template <class T>
void input_gradient(int64_t rows, int64_t I, int64_t G, const T* dZ, const T* W, const T* WT,
                    T* dx) {
  if (I < 2 * vector_lanes<T>()) gemm_nt<T>(rows, I, G, dZ, G, W, G, dx, I, false);
  else gemm<T>(false, rows, I, G, dZ, G, WT, I, dx, I, false);
}

// Rows per chunk of the weight-gradient pass: a chunk's gate gradients (about 2 MiB) stay in
// cache for the three or four products that read them, instead of streaming from DRAM once per
// product (at train-large dZ is 512 MiB). A multiple of gemm's KC (128), so every element of
// dW / dU is summed over k in the same order as by one product over all rows.
template <class T>
int64_t gradient_chunk_rows(int64_t G) {
  const int64_t fit = (int64_t(2) << 20) / (G * int64_t(sizeof(T)));
  return std::max<int64_t>(128, fit / 128 * 128);
}

// What does not carry the recurrence, for the batch rows [b0, b1): dx = dZ W^T, dW = x^T dZ,
// dU = prev^T dZ (prev: the state before each step, written here), db = column sums of dZ. dZ holds
// the pre-activation gradients (B, T, G); dW, dU, db are the slice's private slots ("="); dx may be
// null (no input gradient wanted). An interruption point after each chunk.
template <class T>
void gate_weight_gradients(int64_t b0, int64_t b1, int64_t T_, int64_t I, int64_t H, int64_t G,
                           const T* x, const T* W, const T* WT, const T* h0, const T* h_seq,
                           const T* dZ, T* prev, T* dx, T* dW, T* dU, T* db, const Stop& stop) {
  const int64_t rows = (b1 - b0) * T_, first = b0 * T_;
  shifted_states(b0, b1, T_, H, h0, h_seq, prev);
  const int64_t chunk = gradient_chunk_rows<T>(G);
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    const int64_t n = std::min(chunk, rows - r0), r = first + r0;
    const T* dZc = dZ + r * G;
    if (dx) input_gradient(n, I, G, dZc, W, WT, dx + r * I);
    gemm<T>(true, I, G, n, x + r * I, I, dZc, G, dW, G, r0 > 0);
    gemm<T>(true, H, G, n, prev + r * H, H, dZc, G, dU, G, r0 > 0);
    add_column_sums(n, G, dZc, G, db);
    if (stop(6.0 * n * G * (I + H))) return;
  }
}

// Per-thread slots for the weight gradients, each laid out [dW | dU | db], zero-initialised.
template <class T>
class GradSlots {
 public:
  GradSlots(int slots, int64_t nW, int64_t nU, int64_t nb)
      : nW_(nW), nU_(nU), nb_(nb), data_(int64_t(slots) * (nW + nU + nb)) {}
  T* dW(int s) { return data_.data() + int64_t(s) * (nW_ + nU_ + nb_); }
  T* dU(int s) { return dW(s) + nW_; }
  T* db(int s) { return dU(s) + nU_; }
  // dW = sum over slots, etc. ("=" semantics on the outputs)
  void reduce_into(int slots, T* dW_out, T* dU_out, T* db_out) {
    const int64_t n = nW_ + nU_ + nb_;
    T* sum = data_.data();
    for (int s = 1; s < slots; ++s)
      for (int64_t k = 0; k < n; ++k) sum[k] += sum[int64_t(s) * n + k];
    if (nW_) std::memcpy(dW_out, sum, sizeof(T) * nW_);
    if (nU_) std::memcpy(dU_out, sum + nW_, sizeof(T) * nU_);
    if (nb_) std::memcpy(db_out, sum + nW_ + nU_, sizeof(T) * nb_);
  }

 private:
  int64_t nW_, nU_, nb_;
  Buffer<T> data_;
};

}  // namespace detail
}  // namespace FASTRNN_ISA_NS
}  // namespace fastrnn
