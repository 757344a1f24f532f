// GRU cell, Keras gate order z, r, h (PyTorch orders its blocks r, z, n):
//   z = sigmoid(x W_z + h U_z + b_z),  r = sigmoid(x W_r + h U_r + b_r)
//   reset_after (Keras default = PyTorch = cuDNN), b is (2, 3H) = [input bias; recurrent bias]:
//     hh = act(x W_h + b_in_h + r * (h U_h + b_rec_h))
//   not reset_after (Cho et al. 2014), b is (3H):
//     hh = act(x W_h + (r * h) U_h + b_h)
//   h_t = z h_{t-1} + (1 - z) hh
// Shape glossary and "=" / "+=" conventions: see elman.hpp.
#pragma once

#include <cstdint>

#include "fastrnn/activations.hpp"

namespace fastrnn {

template <class T>
void gru_forward(int64_t B, int64_t T_, int64_t I, int64_t H, bool reset_after, Activation act,
                 const T* x,    // (B, T, I)
                 const T* W,    // (I, 3H)
                 const T* U,    // (H, 3H)
                 const T* b,    // (2, 3H) if reset_after else (3H)
                 const T* h0,   // (B, H) nullable
                 T* h_seq,      // (B, T, H) =
                 T* gates,      // (B, T, 3H) = activated z, r, hh, kept for the backward pass
                 T* rec_h,      // (B, T, H) = h U_h + b_rec_h (reset_after) or r * h (not)
                 const uint8_t* mask = nullptr);  // (B, T) nullable (elman.hpp)

template <class T>
void gru_backward(int64_t B, int64_t T_, int64_t I, int64_t H, bool reset_after, Activation act,
                  const T* x, const T* W, const T* U,
                  const T* h0,      // (B, H) nullable
                  const T* h_seq, const T* gates, const T* rec_h,  // from gru_forward
                  const T* dh_seq,  // (B, T, H) nullable
                  const T* dh_last, // (B, H) nullable
                  T* dx,            // (B, T, I) =, or null: not computed
                  T* dW,            // (I, 3H) =
                  T* dU,            // (H, 3H) =
                  T* db,            // shape of b =
                  T* dh0,           // (B, H) =
                  const uint8_t* mask = nullptr);  // (B, T) nullable

}  // namespace fastrnn
