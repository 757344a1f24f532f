// The kernels' thread pool: the caller plus up to max_threads() - 1 persistent workers.
//
// Why not OpenMP: GNU OpenMP's idle threads spin for a long time after every region (and its
// join barrier waits for every team member), so two processes sharing two cores each wait whole
// scheduler time slices for a thread the other process displaced (bench/NOTES.md, "shared
// cores"). Here the slices of a call are claimed dynamically: the caller claims slices too, so
// a worker that is not running when the call starts simply gets none, and nobody waits for it.
// Idle workers spin briefly (yielding), then sleep on a condition variable.
#pragma once

namespace fastrnn {
namespace pool {

// Threads a call may use (the caller included): set_max_threads, else FASTRNN_NUM_THREADS, else
// OMP_NUM_THREADS, else the CPUs this process may run on.
int max_threads();

// n >= 1. Takes effect at the next call; workers are created when first needed.
void set_max_threads(int n);

// Runs task(ctx, s) once for every s in [0, slices), each slice on one thread, and returns when
// all are done. The calling thread takes part. A call from inside a task, or while another
// thread's call is running, runs its slices on the calling thread (same results: slices do not
// depend on the thread that runs them). task must not throw.
void run(int slices, void (*task)(void* ctx, int slice), void* ctx);

}  // namespace pool
}  // namespace fastrnn
