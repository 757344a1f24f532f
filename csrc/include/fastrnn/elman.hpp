// Elman (Keras SimpleRNN) cell: h_t = act(x_t W + h_{t-1} U + b).
//
// Shape glossary for every kernel header in this folder (all arrays C-contiguous, batch-first):
//   B batch, T time steps, I input features, H hidden units, G gate blocks (Elman 1, LSTM 4,
//   GRU 3). Nullable pointers mean "zeros". "=" marks an output that is overwritten,
//   "+=" one that is accumulated into. Kernels never allocate Python objects and never throw
//   except std::bad_alloc for their scratch space.
//   mask (B, T), nullable: Keras's step mask. Where mask[b * T + t] == 0 step t of sample b is
//   skipped: its states carry over unchanged (h_seq[b, t] = h_{t-1}, c likewise), and the
//   backward pass passes the gradients of that step straight through to step t - 1. A backward
//   call takes the mask of its forward call.
#pragma once

#include <cstdint>

#include "fastrnn/activations.hpp"

namespace fastrnn {

template <class T>
void elman_forward(int64_t B, int64_t T_, int64_t I, int64_t H, Activation act,
                   const T* x,    // (B, T, I)
                   const T* W,    // (I, H)
                   const T* U,    // (H, H)
                   const T* b,    // (H)
                   const T* h0,   // (B, H) nullable
                   T* h_seq,      // (B, T, H) =
                   const uint8_t* mask = nullptr);  // (B, T) nullable

// Gradients of L where dL/dh_seq = dh_seq and dL/dh_last = dh_last (both nullable).
template <class T>
void elman_backward(int64_t B, int64_t T_, int64_t I, int64_t H, Activation act,
                    const T* x,       // (B, T, I)
                    const T* W,       // (I, H)
                    const T* U,       // (H, H)
                    const T* h0,      // (B, H) nullable
                    const T* h_seq,   // (B, T, H) from elman_forward
                    const T* dh_seq,  // (B, T, H) nullable
                    const T* dh_last, // (B, H) nullable
                    T* dx,            // (B, T, I) =, or null: not computed
                    T* dW,            // (I, H) =
                    T* dU,            // (H, H) =
                    T* db,            // (H) =
                    T* dh0,           // (B, H) =
                    const uint8_t* mask = nullptr);  // (B, T) nullable

}  // namespace fastrnn
