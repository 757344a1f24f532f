# fastrnn.backends._cuda: the CUDA backend, built next to fastrnn.backends._core when a CUDA compiler exists.
#
# FASTRNN_CUDA (declared in the top-level CMakeLists.txt):
#   AUTO  build it when CMake finds a CUDA compiler (nvcc), else skip with a status message;
#   ON    build it or fail with a clear error;
#   OFF   skip it.
# Architectures: sm_80 (A100) and sm_90 (H100/H200) as SASS, plus sm_90 PTX that newer GPUs JIT.
# Override with -DCMAKE_CUDA_ARCHITECTURES=... (e.g. "native" on a machine with a GPU, which
# also makes the build several times faster).
#
# The CUDA runtime is linked statically (libcudart_static): the module then needs no
# libcudart.so at import and loads libcuda.so (the driver) lazily, so `import fastrnn` works on
# machines without a GPU or driver; fastrnn.backends.available() then leaves "cuda" out and
# calls raise RuntimeError. No cuBLAS: see csrc/cuda/gemm.cuh for why.

string(TOUPPER "${FASTRNN_CUDA}" _fastrnn_cuda_mode)
if(_fastrnn_cuda_mode STREQUAL "OFF")
  message(STATUS "fastrnn: CUDA backend disabled (FASTRNN_CUDA=OFF)")
  return()
endif()
if(NOT _fastrnn_cuda_mode MATCHES "^(AUTO|ON)$")
  message(FATAL_ERROR "fastrnn: FASTRNN_CUDA must be AUTO, ON or OFF, got '${FASTRNN_CUDA}'")
endif()

include(CheckLanguage)
check_language(CUDA)
if(NOT CMAKE_CUDA_COMPILER)
  if(_fastrnn_cuda_mode STREQUAL "ON")
    message(FATAL_ERROR
      "fastrnn: FASTRNN_CUDA=ON but no CUDA compiler was found. Install the CUDA toolkit "
      "(nvcc), put it on PATH or set CUDACXX=/path/to/nvcc, or build with -DFASTRNN_CUDA=AUTO/OFF.")
  endif()
  message(STATUS "fastrnn: no CUDA compiler found; building without the CUDA backend")
  return()
endif()

if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES "80-real;90-real;90-virtual")
endif()
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
message(STATUS "fastrnn: building the CUDA backend with ${CMAKE_CUDA_COMPILER} "
               "(CUDA ${CMAKE_CUDA_COMPILER_VERSION}, architectures ${CMAKE_CUDA_ARCHITECTURES})")

add_library(fastrnn_cuda_kernels STATIC
  csrc/cuda/gemm.cu
  csrc/cuda/elman.cu
  csrc/cuda/lstm.cu
  csrc/cuda/gru.cu)
target_include_directories(fastrnn_cuda_kernels PUBLIC csrc/include csrc/cuda)
set_target_properties(fastrnn_cuda_kernels PROPERTIES
  POSITION_INDEPENDENT_CODE ON
  CUDA_RUNTIME_LIBRARY Static
  CUDA_SEPARABLE_COMPILATION OFF)
target_compile_options(fastrnn_cuda_kernels PRIVATE
  $<$<COMPILE_LANGUAGE:CUDA>:-O3 --expt-relaxed-constexpr -Xcompiler=-fvisibility=hidden>)
target_link_libraries(fastrnn_cuda_kernels PUBLIC CUDA::cudart_static)

pybind11_add_module(_cuda MODULE WITH_SOABI csrc/bindings/cuda.cpp)
target_link_libraries(_cuda PRIVATE fastrnn_cuda_kernels CUDA::cudart_static)
target_compile_options(_cuda PRIVATE -O3)
install(TARGETS _cuda DESTINATION fastrnn/backends)
