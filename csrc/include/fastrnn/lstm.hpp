// LSTM cell, Keras gate order i, f, c, o (the same as PyTorch's i, f, g, o):
//   [i f g o] = x_t W + h_{t-1} U + b;  i, f, o = sigmoid(.), g = act(.)
//   c_t = f c_{t-1} + i g;  h_t = o act(c_t)
// Shape glossary and "=" / "+=" conventions: see elman.hpp.
#pragma once

#include <cstdint>

#include "fastrnn/activations.hpp"

namespace fastrnn {

template <class T>
void lstm_forward(int64_t B, int64_t T_, int64_t I, int64_t H, Activation act,
                  const T* x,    // (B, T, I)
                  const T* W,    // (I, 4H)
                  const T* U,    // (H, 4H)
                  const T* b,    // (4H)
                  const T* h0,   // (B, H) nullable
                  const T* c0,   // (B, H) nullable
                  T* h_seq,      // (B, T, H) =
                  T* c_seq,      // (B, T, H) =  cell states, kept for the backward pass
                  T* gates,      // (B, T, 4H) = activated i, f, g, o, kept for the backward pass
                  const uint8_t* mask = nullptr);  // (B, T) nullable (elman.hpp)

template <class T>
void lstm_backward(int64_t B, int64_t T_, int64_t I, int64_t H, Activation act,
                   const T* x, const T* W, const T* U,
                   const T* h0,      // (B, H) nullable
                   const T* c0,      // (B, H) nullable
                   const T* h_seq, const T* c_seq, const T* gates,  // from lstm_forward
                   const T* dh_seq,  // (B, T, H) nullable
                   const T* dh_last, // (B, H) nullable
                   const T* dc_last, // (B, H) nullable
                   T* dx,            // (B, T, I) =, or null: not computed
                   T* dW,            // (I, 4H) =
                   T* dU,            // (H, 4H) =
                   T* db,            // (4H) =
                   T* dh0,           // (B, H) =
                   T* dc0,           // (B, H) =
                   const uint8_t* mask = nullptr);  // (B, T) nullable

}  // namespace fastrnn
