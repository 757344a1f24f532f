// Register-blocked matrix product; see gemm.hpp for why fastrnn carries its own.
//
// Structure: K is cut into panels of KC rows so that the panel of B being reused stays in L2;
// within a panel, each 4 x (2 vectors) tile of C lives in registers while k runs over the panel
// (per k: two vector loads of B, four broadcasts of A, eight FMAs). Column tails use a one-vector
// tile, then scalars; row tails use a one-row tile. Every row of C is accumulated over k in the
// same order whichever tile computes it, so results do not depend on M or on how a caller splits
// rows across threads.
//
// The vectors are GCC vector extensions of 64 bytes; `target_clones` compiles the whole product
// for AVX-512, AVX2+FMA and baseline x86-64 and picks one when the module loads, so a wheel
// built here runs (more slowly) on a CPU without AVX-512.
#include "fastrnn/gemm.hpp"

#include <cstring>

namespace fastrnn {
namespace {

typedef float f32v __attribute__((vector_size(64)));
typedef double f64v __attribute__((vector_size(64)));
template <class T> struct vec_of;
template <> struct vec_of<float> { using type = f32v; };
template <> struct vec_of<double> { using type = f64v; };

constexpr int64_t KC = 128;  // rows of B per panel: 128 x 1024 floats = 512 KiB, inside L2

template <class V>
inline __attribute__((always_inline)) V load(const void* p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  return v;
}
template <class V>
inline __attribute__((always_inline)) void store(void* p, const V& v) {
  std::memcpy(p, &v, sizeof(V));
}

// C[MR rows, NV vectors] (+)= sum_k a(r, k) * B[k, :]; a(r, k) = A[r * a_rs + k * a_ks].
template <class T, int MR, int NV>
inline __attribute__((always_inline)) void tile(int64_t K, const T* A, int64_t a_rs, int64_t a_ks,
                                                const T* B, int64_t ldb, T* C, int64_t ldc,
                                                bool load_c) {
  using V = typename vec_of<T>::type;
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
  for (; j + 2 * L <= N; j += 2 * L) tile<T, MR, 2>(K, A, a_rs, a_ks, B + j, ldb, C + j, ldc, load_c);
  for (; j + L <= N; j += L) tile<T, MR, 1>(K, A, a_rs, a_ks, B + j, ldb, C + j, ldc, load_c);
  for (; j < N; ++j) {
    for (int r = 0; r < MR; ++r) {
      T acc = load_c ? C[r * ldc + j] : T(0);
      for (int64_t k = 0; k < K; ++k) acc += A[r * a_rs + k * a_ks] * B[k * ldb + j];
      C[r * ldc + j] = acc;
    }
  }
}

template <class T>
inline __attribute__((always_inline)) void gemm_body(bool a_trans, int64_t M, int64_t N, int64_t K,
                                                     const T* A, int64_t lda, const T* B,
                                                     int64_t ldb, T* C, int64_t ldc,
                                                     bool accumulate) {
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
    const T* Bk = B + k0 * ldb;
    int64_t i = 0;
    for (; i + 4 <= M; i += 4)
      row_block<T, 4>(N, kc, Ak + i * a_rs, a_rs, a_ks, Bk, ldb, C + i * ldc, ldc, load_c);
    for (; i < M; ++i)
      row_block<T, 1>(N, kc, Ak + i * a_rs, a_rs, a_ks, Bk, ldb, C + i * ldc, ldc, load_c);
  }
}

#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define FASTRNN_MULTIVERSION __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default")))
#else
#define FASTRNN_MULTIVERSION
#endif

FASTRNN_MULTIVERSION
void gemm_f32(bool a_trans, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
              const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate) {
  gemm_body<float>(a_trans, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
}

FASTRNN_MULTIVERSION
void gemm_f64(bool a_trans, int64_t M, int64_t N, int64_t K, const double* A, int64_t lda,
              const double* B, int64_t ldb, double* C, int64_t ldc, bool accumulate) {
  gemm_body<double>(a_trans, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
}

}  // namespace

template <>
void gemm<float>(bool a_trans, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                 const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate) {
  gemm_f32(a_trans, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
}

template <>
void gemm<double>(bool a_trans, int64_t M, int64_t N, int64_t K, const double* A, int64_t lda,
                  const double* B, int64_t ldb, double* C, int64_t ldc, bool accumulate) {
  gemm_f64(a_trans, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
}

template <class T>
void transpose(int64_t rows, int64_t cols, const T* A, int64_t lda, T* out) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) out[j * rows + i] = A[i * lda + j];
}
template void transpose<float>(int64_t, int64_t, const float*, int64_t, float*);
template void transpose<double>(int64_t, int64_t, const double*, int64_t, double*);

}  // namespace fastrnn
