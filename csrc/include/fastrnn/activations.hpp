// Gate functions and their derivatives, shared by the CPU and CUDA kernels.
//
// Every activation fastrnn supports has a derivative that is a function of its *output*
// (tanh' = 1 - y^2, sigmoid' = y (1 - y), relu' = [y > 0], linear' = 1), so the forward pass
// stores activated gates only and the backward pass never re-evaluates a transcendental.
#pragma once

#include <cmath>

#if defined(__CUDACC__)
#define FASTRNN_HD __host__ __device__ __forceinline__
#else
#define FASTRNN_HD inline
#endif

namespace fastrnn {

enum class Activation : int { Tanh = 0, Relu = 1, Sigmoid = 2, Linear = 3 };

template <class T>
FASTRNN_HD T sigmoid(T v) {
  // exp(-v) overflows to inf for very negative v, and 1 / (1 + inf) = 0: no NaN either way.
  return T(1) / (T(1) + exp(-v));
}

template <class T>
FASTRNN_HD T activate(Activation a, T v) {
  switch (a) {
    case Activation::Tanh: return tanh(v);
    case Activation::Relu: return v > T(0) ? v : T(0);
    case Activation::Sigmoid: return sigmoid(v);
    default: return v;
  }
}

template <class T>
FASTRNN_HD T activation_grad_from_output(Activation a, T y) {
  switch (a) {
    case Activation::Tanh: return T(1) - y * y;
    case Activation::Relu: return y > T(0) ? T(1) : T(0);
    case Activation::Sigmoid: return y * (T(1) - y);
    default: return T(1);
  }
}

}  // namespace fastrnn
