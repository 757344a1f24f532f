// The per-instruction-set kernel entry points (isa.hpp), mirroring fastrnn/{elman,lstm,gru}.hpp,
// whose functions dispatch here (dispatch.cpp); `mask` as there (elman.hpp), nullable. No include
// guard on purpose: dispatch.cpp includes this once per FASTRNN_ISA_NS.
#include <cstdint>

#include "fastrnn/activations.hpp"
#include "isa.hpp"

namespace fastrnn {
namespace FASTRNN_ISA_NS {

template <class T>
void elman_forward(int64_t B, int64_t T_, int64_t I, int64_t H, Activation act, const T* x,
                   const T* W, const T* U, const T* b, const T* h0, T* h_seq, const uint8_t* mask);
template <class T>
void elman_backward(int64_t B, int64_t T_, int64_t I, int64_t H, Activation act, const T* x,
                    const T* W, const T* U, const T* h0, const T* h_seq, const T* dh_seq,
                    const T* dh_last, T* dx, T* dW, T* dU, T* db, T* dh0, const uint8_t* mask);
template <class T>
void lstm_forward(int64_t B, int64_t T_, int64_t I, int64_t H, Activation act, const T* x,
                  const T* W, const T* U, const T* b, const T* h0, const T* c0, T* h_seq,
                  T* c_seq, T* gates, const uint8_t* mask);
template <class T>
void lstm_backward(int64_t B, int64_t T_, int64_t I, int64_t H, Activation act, const T* x,
                   const T* W, const T* U, const T* h0, const T* c0, const T* h_seq,
                   const T* c_seq, const T* gates, const T* dh_seq, const T* dh_last,
                   const T* dc_last, T* dx, T* dW, T* dU, T* db, T* dh0, T* dc0,
                   const uint8_t* mask);
template <class T>
void gru_forward(int64_t B, int64_t T_, int64_t I, int64_t H, bool reset_after, Activation act,
                 const T* x, const T* W, const T* U, const T* b, const T* h0, T* h_seq, T* gates,
                 T* rec_h, const uint8_t* mask);
template <class T>
void gru_backward(int64_t B, int64_t T_, int64_t I, int64_t H, bool reset_after, Activation act,
                  const T* x, const T* W, const T* U, const T* h0, const T* h_seq,
                  const T* gates, const T* rec_h, const T* dh_seq, const T* dh_last, T* dx,
                  T* dW, T* dU, T* db, T* dh0, const uint8_t* mask);

}  // namespace FASTRNN_ISA_NS
}  // namespace fastrnn
