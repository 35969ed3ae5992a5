// The entry point of the optional CUDA library (libamalgam_cuda.so), shared by the CPU library's dispatcher and the
// CUDA sources. The CPU library never links the CUDA one: Java loads it where it exists and hands the address of
// amalgam_cuda_entry to amalgam_cuda_attach (amalgam.h contract point 10), so libamalgam.so loads on any machine.
#ifndef AMALGAM_CUDA_ENTRY_H
#define AMALGAM_CUDA_ENTRY_H

#include <cstdint>

namespace amalgam {

struct KernelTable;

// Both libraries come from one build; the dispatcher refuses an entry of another version.
constexpr int32_t kCudaEntryVersion = 2;

struct CudaEntry {
  int32_t version;
  // Runtime queries. Each returns a cudaError_t value (0 = cudaSuccess).
  int32_t (*device_count)(int32_t *count);
  // numbers: compute capability major, minor, multiprocessors, driver version, runtime version, PCI bus id;
  // memory: total and free bytes.
  int32_t (*device_info)(int32_t device, char *name, int32_t name_capacity, int64_t *memory, int32_t *numbers);
  const char *(*error_name)(int32_t error);
  const char *(*error_string)(int32_t error);
  // Staging of the host-pointer kernels: bytes per slot (two slots per host thread, pinned and on the device).
  int32_t (*set_staging_bytes)(int64_t bytes);
  // The host-pointer kernels (same contracts as the CPU tables). select_device makes the calling thread's next
  // table calls run on that device; take_error returns and clears the first CUDA error of those calls.
  const KernelTable *table;
  int32_t (*select_device)(int32_t device);
  int32_t (*take_error)(void);
  // Device-pointer kernels for applications that hold device memory (amalgam.h contract point 10). stream is a
  // cudaStream_t (0 = the legacy default stream); the kernels are enqueued and not waited for, except dot3, which
  // waits for its three sums.
  int32_t (*device_convert)(int32_t device, int64_t stream, int64_t src, int32_t src_dtype, int64_t dst,
                            int32_t dst_dtype, int64_t n);
  int32_t (*device_weighted_sum)(int32_t device, int64_t stream, int32_t count, const int64_t *inputs,
                                 const int32_t *dtypes, const float *coefficients, int64_t out, int32_t out_dtype,
                                 int64_t n);
  int32_t (*device_dot3)(int32_t device, int64_t stream, int64_t x, int32_t x_dtype, int64_t y, int32_t y_dtype,
                         int64_t n, double *result);
  // Device memory for applications without a CUDA binding of their own (and for the tests and benchmarks):
  // cudaMalloc, cudaFree, cudaMemcpyAsync (kind: 1 host to device, 2 device to host, 3 device to device) and
  // cudaStreamSynchronize. Each returns a cudaError_t value.
  int32_t (*device_malloc)(int32_t device, int64_t bytes, int64_t *address);
  int32_t (*device_free)(int32_t device, int64_t address);
  int32_t (*device_copy)(int32_t device, int64_t stream, int64_t dst, int64_t src, int64_t bytes, int32_t kind);
  int32_t (*device_synchronize)(int32_t device, int64_t stream);
  // 0 turns the overlap of staged pieces off (each piece waits for the one before): the pipeline's baseline.
  int32_t (*set_pipelining)(int32_t on);
};

}  // namespace amalgam

extern "C" {
// Exported by libamalgam_cuda.so (default visibility; everything else there is hidden).
__attribute__((visibility("default"))) const amalgam::CudaEntry *amalgam_cuda_entry(void);
}

#endif  // AMALGAM_CUDA_ENTRY_H
