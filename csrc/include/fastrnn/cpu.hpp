// Which instruction set the CPU kernels run with (see csrc/cpu/isa.hpp).
#pragma once

namespace fastrnn {

// "avx512", "avx2" or "baseline": chosen once, from the CPU and the FASTRNN_ISA environment
// variable (which can only lower the choice, never select what the CPU lacks).
const char* cpu_isa();

}  // namespace fastrnn
