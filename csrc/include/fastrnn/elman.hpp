// Elman (Keras SimpleRNN) cell: h_t = act(x_t W + h_{t-1} U + b).
//
// Shape glossary for every kernel header in this folder (all arrays C-contiguous, batch-first):
//   B batch, T time steps, I input features, H hidden units, G gate blocks (Elman 1, LSTM 4,
//   GRU 3). Nullable pointers mean "zeros". "=" marks an output that is overwritten,
//   "+=" one that is accumulated into. Kernels never allocate Python objects and never throw
//   except std::bad_alloc for their scratch space.
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
                   T* h_seq);     // (B, T, H) =

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
                    T* dh0);          // (B, H) =

}  // namespace fastrnn
