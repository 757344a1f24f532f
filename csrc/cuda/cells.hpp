// The CUDA cell kernels' host entry points: the same arguments, shapes and "=" semantics as the
// CPU kernels in csrc/include/fastrnn/{elman,lstm,gru}.hpp (read the glossary there), except
// that every pointer is a device pointer and work is queued on `stream`. The functions return
// once the work is queued (scratch memory is stream-ordered); callers synchronise the stream.
// Errors throw fastrnn::cuda::Error (std::runtime_error); invalid sizes are the binding's job.
// Plain C++: the binding includes this without nvcc.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "fastrnn/activations.hpp"

namespace fastrnn {
namespace cuda {

// Number of usable devices; 0 with the reason in *why when there is no GPU or no driver.
int device_count(std::string* why);

template <class T>
void elman_forward(cudaStream_t stream, int64_t B, int64_t T_, int64_t I, int64_t H,
                   Activation act, const T* x, const T* W, const T* U, const T* b, const T* h0,
                   T* h_seq);

template <class T>
void elman_backward(cudaStream_t stream, int64_t B, int64_t T_, int64_t I, int64_t H,
                    Activation act, const T* x, const T* W, const T* U, const T* h0,
                    const T* h_seq, const T* dh_seq, const T* dh_last, T* dx, T* dW, T* dU, T* db,
                    T* dh0);

template <class T>
void lstm_forward(cudaStream_t stream, int64_t B, int64_t T_, int64_t I, int64_t H,
                  Activation act, const T* x, const T* W, const T* U, const T* b, const T* h0,
                  const T* c0, T* h_seq, T* c_seq, T* gates);

template <class T>
void lstm_backward(cudaStream_t stream, int64_t B, int64_t T_, int64_t I, int64_t H,
                   Activation act, const T* x, const T* W, const T* U, const T* h0, const T* c0,
                   const T* h_seq, const T* c_seq, const T* gates, const T* dh_seq,
                   const T* dh_last, const T* dc_last, T* dx, T* dW, T* dU, T* db, T* dh0,
                   T* dc0);

template <class T>
void gru_forward(cudaStream_t stream, int64_t B, int64_t T_, int64_t I, int64_t H,
                 bool reset_after, Activation act, const T* x, const T* W, const T* U, const T* b,
                 const T* h0, T* h_seq, T* gates, T* rec_h);

template <class T>
void gru_backward(cudaStream_t stream, int64_t B, int64_t T_, int64_t I, int64_t H,
                  bool reset_after, Activation act, const T* x, const T* W, const T* U,
                  const T* h0, const T* h_seq, const T* gates, const T* rec_h, const T* dh_seq,
                  const T* dh_last, T* dx, T* dW, T* dU, T* db, T* dh0);

// Index of the first NaN/inf in a device array of n elements, or -1 (synchronises the stream).
template <class T>
int64_t first_nonfinite(cudaStream_t stream, const T* a, int64_t n);

}  // namespace cuda
}  // namespace fastrnn
