// Register-blocked matrix product; see gemm.hpp for why fastrnn carries its own.
//
// K and N are cut into panels of B (KC x NC) that stay in L2 while every row tile of C streams
// past; within a panel each MR x (2 vectors) tile of C lives in registers while k runs over the
// panel (per k: two vector loads of B, MR broadcasts of A, 2*MR FMAs). MR is 8 with AVX-512 (16
// of its 32 vector registers hold C, so each load of B feeds 16 FMAs) and 4 otherwise (8 of 16).
// Column tails use a one-vector tile, then half- and quarter-width vectors, then scalars; row
// tails use 4-row and then 1-row tiles. Each element of C is accumulated over k in the same order
// by every tile shape, so a row's result does not depend on how a caller splits rows across
// threads.
#include "gemm.hpp"

#include <cstring>

namespace fastrnn {
namespace FASTRNN_ISA_NS {
namespace {

#if defined(__AVX512F__)
constexpr int kVectorBytes = 64, kRows = 8;
#elif defined(__AVX2__)
constexpr int kVectorBytes = 32, kRows = 4;
#else
constexpr int kVectorBytes = 16, kRows = 4;
#endif
// Vectors of the full width, and of half and a quarter of it (at least 16 bytes) for the column
// tail: a 12-column product (a GRU with H = 4) is then 8 + 4 lanes instead of 12 scalars.
template <class T, int Bytes> struct vec;
template <int Bytes> struct vec<float, Bytes> {
  typedef float type __attribute__((vector_size(Bytes)));
};
template <int Bytes> struct vec<double, Bytes> {
  typedef double type __attribute__((vector_size(Bytes)));
};
template <class T> struct vec_of { using type = typename vec<T, kVectorBytes>::type; };
constexpr int kHalfBytes = kVectorBytes / 2 >= 16 ? kVectorBytes / 2 : 16;
constexpr int kQuarterBytes = kVectorBytes / 4 >= 16 ? kVectorBytes / 4 : 16;

// The panel of B reused across all row tiles, KC x NC elements, stays in L2 while every tile of C
// that needs it streams past (128 x 256 floats = 128 KiB). NC is a multiple of every tile width.
// The deep products (the weight gradients, K = batch x time) use the same panel: no other size
// did better for them (bench/NOTES.md section 11).
constexpr int64_t KC = 128, NC = 256;

template <class V>
inline V load(const void* p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  return v;
}
template <class V>
inline void store(void* p, const V& v) {
  std::memcpy(p, &v, sizeof(V));
}

// C[MR rows, NV vectors] (+)= sum_k a(r, k) * B[k, :]; a(r, k) = A[r * a_rs + k * a_ks].
template <class T, int MR, int NV, int Bytes = kVectorBytes>
inline __attribute__((always_inline)) void tile(int64_t K, const T* A, int64_t a_rs, int64_t a_ks,
                                                const T* B, int64_t ldb, T* C, int64_t ldc,
                                                bool load_c) {
  using V = typename vec<T, Bytes>::type;
  constexpr int L = sizeof(V) / sizeof(T);
  V acc[MR][NV];
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < NV; ++v) acc[r][v] = load_c ? load<V>(C + r * ldc + v * L) : V{};
  for (int64_t k = 0; k < K; ++k) {
    V b[NV];
    for (int v = 0; v < NV; ++v) b[v] = load<V>(B + k * ldb + v * L);
    for (int r = 0; r < MR; ++r) {
      const T a = A[r * a_rs + k * a_ks];
      for (int v = 0; v < NV; ++v) acc[r][v] += a * b[v];
    }
  }
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < NV; ++v) store(C + r * ldc + v * L, acc[r][v]);
}

template <class T, int MR>
inline __attribute__((always_inline)) void row_block(int64_t N, int64_t K, const T* A, int64_t a_rs,
                                                     int64_t a_ks, const T* B, int64_t ldb, T* C,
                                                     int64_t ldc, bool load_c) {
  using V = typename vec_of<T>::type;
  constexpr int L = sizeof(V) / sizeof(T);
  int64_t j = 0;
  if constexpr (MR == 1)  // a single row (B = 1 streaming): four accumulators hide FMA latency
    for (; j + 4 * L <= N; j += 4 * L) tile<T, 1, 4>(K, A, a_rs, a_ks, B + j, ldb, C + j, ldc, load_c);
  for (; j + 2 * L <= N; j += 2 * L) tile<T, MR, 2>(K, A, a_rs, a_ks, B + j, ldb, C + j, ldc, load_c);
  for (; j + L <= N; j += L) tile<T, MR, 1>(K, A, a_rs, a_ks, B + j, ldb, C + j, ldc, load_c);
  constexpr int L2 = kHalfBytes / int(sizeof(T)), L4 = kQuarterBytes / int(sizeof(T));
  if (L2 < L)
    for (; j + L2 <= N; j += L2)
      tile<T, MR, 1, kHalfBytes>(K, A, a_rs, a_ks, B + j, ldb, C + j, ldc, load_c);
  if (L4 < L2)
    for (; j + L4 <= N; j += L4)
      tile<T, MR, 1, kQuarterBytes>(K, A, a_rs, a_ks, B + j, ldb, C + j, ldc, load_c);
  for (; j < N; ++j) {
    for (int r = 0; r < MR; ++r) {
      T acc = load_c ? C[r * ldc + j] : T(0);
      for (int64_t k = 0; k < K; ++k) acc += A[r * a_rs + k * a_ks] * B[k * ldb + j];
      C[r * ldc + j] = acc;
    }
  }
}

}  // namespace

template <class T>
void gemm(bool a_trans, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B,
          int64_t ldb, T* C, int64_t ldc, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate)
      for (int64_t i = 0; i < M; ++i) std::memset(C + i * ldc, 0, sizeof(T) * N);
    return;
  }
  const int64_t a_rs = a_trans ? 1 : lda;  // step to the next row of op(A)
  const int64_t a_ks = a_trans ? lda : 1;  // step to the next k
  for (int64_t k0 = 0; k0 < K; k0 += KC) {
    const int64_t kc = K - k0 < KC ? K - k0 : KC;
    const bool load_c = accumulate || k0 > 0;
    const T* Ak = A + k0 * a_ks;
    for (int64_t n0 = 0; n0 < N; n0 += NC) {
      const int64_t nc = N - n0 < NC ? N - n0 : NC;
      const T* Bk = B + k0 * ldb + n0;
      T* Cn = C + n0;
      int64_t i = 0;
      for (; i + kRows <= M; i += kRows)
        row_block<T, kRows>(nc, kc, Ak + i * a_rs, a_rs, a_ks, Bk, ldb, Cn + i * ldc, ldc, load_c);
      if (kRows > 4)
        for (; i + 4 <= M; i += 4)
          row_block<T, 4>(nc, kc, Ak + i * a_rs, a_rs, a_ks, Bk, ldb, Cn + i * ldc, ldc, load_c);
      for (; i < M; ++i)
        row_block<T, 1>(nc, kc, Ak + i * a_rs, a_rs, a_ks, Bk, ldb, Cn + i * ldc, ldc, load_c);
    }
  }
}

template <class T>
void gemm_nt(int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* Bt, int64_t ldbt,
             T* C, int64_t ldc, bool accumulate) {
  using V = typename vec_of<T>::type;
  constexpr int L = sizeof(V) / sizeof(T);
  for (int64_t m = 0; m < M; ++m) {
    const T* a = A + m * lda;
    T* c = C + m * ldc;
    int64_t n = 0;
    for (; n + 4 <= N; n += 4) {  // four dot products share each load of a
      const T* b0 = Bt + n * ldbt;
      V acc[4] = {};
      int64_t k = 0;
      for (; k + L <= K; k += L) {
        const V av = load<V>(a + k);
        for (int q = 0; q < 4; ++q) acc[q] += av * load<V>(b0 + q * ldbt + k);
      }
      for (int q = 0; q < 4; ++q) {
        T s = T(0);
        for (int l = 0; l < L; ++l) s += acc[q][l];
        for (int64_t kk = k; kk < K; ++kk) s += a[kk] * b0[q * ldbt + kk];
        c[n + q] = accumulate ? c[n + q] + s : s;
      }
    }
    for (; n < N; ++n) {
      const T* b = Bt + n * ldbt;
      V acc = {};
      int64_t k = 0;
      for (; k + L <= K; k += L) acc += load<V>(a + k) * load<V>(b + k);
      T s = T(0);
      for (int l = 0; l < L; ++l) s += acc[l];
      for (; k < K; ++k) s += a[k] * b[k];
      c[n] = accumulate ? c[n] + s : s;
    }
  }
}

template <class T>
int64_t vector_lanes() {
  return kVectorBytes / sizeof(T);
}

template <class T>
void transpose(int64_t rows, int64_t cols, const T* A, int64_t lda, T* out) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) out[j * rows + i] = A[i * lda + j];
}

template void gemm<float>(bool, int64_t, int64_t, int64_t, const float*, int64_t, const float*,
                          int64_t, float*, int64_t, bool);
template void gemm<double>(bool, int64_t, int64_t, int64_t, const double*, int64_t, const double*,
                           int64_t, double*, int64_t, bool);
template void gemm_nt<float>(int64_t, int64_t, int64_t, const float*, int64_t, const float*,
                             int64_t, float*, int64_t, bool);
template void gemm_nt<double>(int64_t, int64_t, int64_t, const double*, int64_t, const double*,
                              int64_t, double*, int64_t, bool);
template int64_t vector_lanes<float>();
template int64_t vector_lanes<double>();
template void transpose<float>(int64_t, int64_t, const float*, int64_t, float*);
template void transpose<double>(int64_t, int64_t, const double*, int64_t, double*);

}  // namespace FASTRNN_ISA_NS
}  // namespace fastrnn
