// Small dense matrix products for the CPU kernels (row-major, explicit leading dimensions).
//
// Why our own and not a BLAS: the hot product in a recurrence is h_{t-1} (rows x H) times
// U (H x G*H) with rows = a thread's share of the batch and H <= 256. At forecasting sizes a
// BLAS call costs more in dispatch and threading than the arithmetic (a 32 x 32 x 128 product
// is ~0.3 MFLOP, a few microseconds), and a BLAS that spawns its own threads fights the
// batch-parallel OpenMP region the kernels already run in. A register-blocked micro-kernel
// compiled once per instruction set (isa.hpp) has no per-call overhead and serves every product
// the kernels need. bench/NOTES.md records the measurements behind this choice.
#pragma once

#include <cstdint>

#include "isa.hpp"

namespace fastrnn {
namespace FASTRNN_ISA_NS {

// C[M,N] = (accumulate ? C : 0) + op(A) @ B.
//   B is (K, N) with row stride ldb; C is (M, N) with row stride ldc.
//   a_trans == false: op(A) = A, A is (M, K) with row stride lda.
//   a_trans == true:  op(A) = A^T, A is (K, M) with row stride lda.
// Serial: callers split work across threads. K == 0 leaves C (or zeroes it).
template <class T>
void gemm(bool a_trans, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B,
          int64_t ldb, T* C, int64_t ldc, bool accumulate);

// C[M,N] = (accumulate ? C : 0) + A @ Bt^T, as dot products of rows: A is (M, K), Bt is (N, K),
// both with contiguous rows. For N too narrow to vectorise across (gemm's column tail is
// scalar), e.g. dx = dZ W^T with few input features.
template <class T>
void gemm_nt(int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* Bt, int64_t ldbt,
             T* C, int64_t ldc, bool accumulate);

// Lanes of one vector register for T in this instruction set (gemm tiles are 2 vectors wide).
template <class T>
int64_t vector_lanes();

// out (cols, rows) = A^T where A is (rows, cols) with row stride lda.
template <class T>
void transpose(int64_t rows, int64_t cols, const T* A, int64_t lda, T* out);

}  // namespace FASTRNN_ISA_NS
}  // namespace fastrnn
