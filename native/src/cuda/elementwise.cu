// CUDA mirrors of the element-wise kernels and dot3 (amalgam.h contract points 5 and 6), over staged host arrays
// (the KernelTable entries) and over device pointers (the interop functions). The element code is scalar_math.h's,
// with the x86 NaN rules of cuda_common.cuh, so every result has the CPU kernels' bits.
#include <cuda_runtime.h>

#include <algorithm>
#include <vector>

#include "cuda_common.cuh"

namespace amalgam {
namespace cuda {
namespace {

// Elements per thread in the vector kernels: 16 bytes of a 2-byte dtype.
constexpr int kVector = 8;

bool aligned16(const void *p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

// ------------------------------------------------------------------------------------------------ convert

__global__ void convert_kernel(const char *src, int32_t src_dtype, char *dst, int32_t dst_dtype, int64_t n,
                               bool vector) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t scalar_from = 0;
  if (vector) {
    const int64_t groups = n / kVector;
    for (int64_t g = t; g < groups; g += stride) {
      float v[kVector];
      load8(src, src_dtype, g * kVector, v);
      store8(dst, dst_dtype, g * kVector, v);
    }
    scalar_from = groups * kVector;
  }
  for (int64_t i = scalar_from + t; i < n; i += stride) store_scalar(dst, dst_dtype, i, load_scalar(src, src_dtype, i));
}

void launch_convert(cudaStream_t stream, const void *src, int32_t src_dtype, void *dst, int32_t dst_dtype, int64_t n) {
  const bool vector = aligned16(src) && aligned16(dst);
  convert_kernel<<<grid_for((n + kVector - 1) / kVector), kThreads, 0, stream>>>(
      static_cast<const char *>(src), src_dtype, static_cast<char *>(dst), dst_dtype, n, vector);
}

// ------------------------------------------------------------------------------------------------ weighted sum

// Inputs per launch; longer sums continue from an f32 accumulator (the same chain: acc = fmaf(c, x, acc)).
constexpr int kSumInputs = 32;

struct SumArgs {
  const char *inputs[kSumInputs];
  int32_t dtypes[kSumInputs];
  float coefficients[kSumInputs];
  int32_t count;
  const float *acc_in;  // null: the chain starts with c[0] * x0
  char *out;
  int32_t out_dtype;
};

__device__ __forceinline__ float sum_element(const SumArgs &a, int k0, float acc, float x) {
  return k0 == 0 && a.acc_in == nullptr ? x86_mul(a.coefficients[0], x) : x86_fma(a.coefficients[k0], x, acc);
}

__global__ void weighted_sum_kernel(SumArgs a, int64_t n, bool vector) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t scalar_from = 0;
  if (vector) {
    const int64_t groups = n / kVector;
    for (int64_t g = t; g < groups; g += stride) {
      const int64_t i = g * kVector;
      float acc[kVector];
      float x[kVector];
      if (a.acc_in != nullptr) {
        load8(reinterpret_cast<const char *>(a.acc_in), AMALGAM_DTYPE_F32, i, acc);
      }
      for (int k = 0; k < a.count; ++k) {
        load8(a.inputs[k], a.dtypes[k], i, x);
#pragma unroll
        for (int e = 0; e < kVector; ++e) acc[e] = sum_element(a, k, acc[e], x[e]);
      }
      store8(a.out, a.out_dtype, i, acc);
    }
    scalar_from = groups * kVector;
  }
  for (int64_t i = scalar_from + t; i < n; i += stride) {
    float acc = a.acc_in != nullptr ? a.acc_in[i] : 0.0f;
    for (int k = 0; k < a.count; ++k) acc = sum_element(a, k, acc, load_scalar(a.inputs[k], a.dtypes[k], i));
    store_scalar(a.out, a.out_dtype, i, acc);
  }
}

// One launch of up to kSumInputs inputs; acc_in null starts the chain, out_dtype F32 with out = acc continues it.
void launch_weighted_sum(cudaStream_t stream, int32_t count, const void *const *inputs, const int32_t *dtypes,
                         const float *coefficients, const float *acc_in, void *out, int32_t out_dtype, int64_t n) {
  SumArgs a{};
  a.count = count;
  a.acc_in = acc_in;
  a.out = static_cast<char *>(out);
  a.out_dtype = out_dtype;
  bool vector = aligned16(out) && (acc_in == nullptr || aligned16(acc_in));
  for (int k = 0; k < count; ++k) {
    a.inputs[k] = static_cast<const char *>(inputs[k]);
    a.dtypes[k] = dtypes[k];
    a.coefficients[k] = coefficients[k];
    vector = vector && aligned16(inputs[k]);
  }
  weighted_sum_kernel<<<grid_for((n + kVector - 1) / kVector), kThreads, 0, stream>>>(a, n, vector);
}

// ------------------------------------------------------------------------------------------------ dot3

// One warp per two dot blocks: lane l of each half-warp is the contract's lane l, its chain sequential as on the
// CPU; the half-warp's lane 0 then adds the 16 lanes in order into the block's double sums.
constexpr int kDotLanes = 16;

__global__ void dot3_blocks_kernel(const char *x, int32_t xd, const char *y, int32_t yd, int64_t n, int64_t first_block,
                                   double *block_sums) {
  const int64_t blocks = (n + AMALGAM_DOT_BLOCK - 1) / AMALGAM_DOT_BLOCK;
  const int64_t half_warps = static_cast<int64_t>(gridDim.x) * blockDim.x / kDotLanes;
  const int lane = threadIdx.x % kDotLanes;
  const unsigned mask = (threadIdx.x % 32) < kDotLanes ? 0x0000ffffu : 0xffff0000u;
  for (int64_t block = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kDotLanes; block < blocks;
       block += half_warps) {
    float xy = 0.0f, xx = 0.0f, yy = 0.0f;
    const int64_t start = block * AMALGAM_DOT_BLOCK;
    for (int64_t j = start; j < start + AMALGAM_DOT_BLOCK; j += 32) {
      for (int odd = 1; odd >= 0; --odd) {
        const int64_t e = j + 2 * lane + odd;
        const float a = e < n ? load_scalar(x, xd, e) : 0.0f;
        const float b = e < n ? load_scalar(y, yd, e) : 0.0f;
        xy = x86_fma(a, b, xy);
        xx = x86_fma(a, a, xx);
        yy = x86_fma(b, b, yy);
      }
    }
    double sxy = 0.0, sxx = 0.0, syy = 0.0;
    for (int l = 0; l < kDotLanes; ++l) {
      const int source = (threadIdx.x % 32) < kDotLanes ? l : l + kDotLanes;
      const float lxy = __shfl_sync(mask, xy, source);
      const float lxx = __shfl_sync(mask, xx, source);
      const float lyy = __shfl_sync(mask, yy, source);
      sxy = x86_add(sxy, x86_widen(lxy));
      sxx = x86_add(sxx, x86_widen(lxx));
      syy = x86_add(syy, x86_widen(lyy));
    }
    if (lane == 0) {
      double *out = block_sums + 3 * (first_block + block);
      out[0] = sxy;
      out[1] = sxx;
      out[2] = syy;
    }
  }
}

// total += s for every block in order: one chain per sum, as on the CPU. With segment_blocks > 0 each segment of
// that many blocks is such a chain from 0.0, and the segment totals are added in order: what the Java side's dot3
// of a whole tensor gives (it calls the kernel once per AMALGAM_DOT_SEGMENT).
__global__ void dot3_total_kernel(const double *block_sums, int64_t blocks, int64_t segment_blocks, double *result) {
  if (blockIdx.x != 0 || threadIdx.x >= 3) return;
  double total = 0.0;
  double segment = 0.0;
  for (int64_t b = 0; b < blocks; ++b) {
    segment = x86_add(segment, block_sums[3 * b + threadIdx.x]);
    if (segment_blocks > 0 && ((b + 1) % segment_blocks == 0 || b + 1 == blocks)) {
      total = x86_add(total, segment);
      segment = 0.0;
    }
  }
  result[threadIdx.x] = segment_blocks > 0 ? total : segment;
}

void launch_dot3_blocks(cudaStream_t stream, const void *x, int32_t xd, const void *y, int32_t yd, int64_t n,
                        int64_t first_block, double *block_sums) {
  const int64_t blocks = (n + AMALGAM_DOT_BLOCK - 1) / AMALGAM_DOT_BLOCK;
  dot3_blocks_kernel<<<grid_for(blocks * kDotLanes), kThreads, 0, stream>>>(
      static_cast<const char *>(x), xd, static_cast<const char *>(y), yd, n, first_block, block_sums);
}

// The three sums of every block, then their totals: scratch of the calling thread's context.
double *dot3_scratch(int64_t blocks) {
  return static_cast<double *>(device_scratch((blocks * 3 + 3) * static_cast<int64_t>(sizeof(double))));
}

// The blocks' chain (or segment chains, segment_blocks > 0) on one thread, then the three sums to host memory;
// waits for the stream.
cudaError_t finish_dot3(cudaStream_t s, double *sums, int64_t blocks, int64_t segment_blocks, double *result) {
  dot3_total_kernel<<<1, 32, 0, s>>>(sums, blocks, segment_blocks, sums + 3 * blocks);
  cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) e = cudaMemcpyAsync(result, sums + 3 * blocks, 3 * sizeof(double), cudaMemcpyDeviceToHost, s);
  if (e == cudaSuccess) e = cudaStreamSynchronize(s);
  return e;
}

}  // namespace

// ------------------------------------------------------------------------------------------------ table entries

void convert(const void *src, int32_t src_dtype, void *dst, int32_t dst_dtype, int64_t n, int32_t flags) {
  (void)flags;  // non-temporal stores are a CPU matter
  const HostArray arrays[2] = {{src, nullptr, dtype_bytes(src_dtype), 1, 0},
                               {nullptr, dst, dtype_bytes(dst_dtype), 1, 0}};
  staged_call(n, kVector, 0, arrays, 2, [&](cudaStream_t s, const DeviceArray *d, int64_t, int64_t len) {
    launch_convert(s, d[0].data, src_dtype, d[1].data, dst_dtype, len);
  });
}

void weighted_sum(int32_t count, const void *const *inputs, const int32_t *input_dtypes, const float *coefficients,
                  void *out, int32_t out_dtype, int64_t n, int32_t flags) {
  (void)flags;
  if (count <= kSumInputs) {
    HostArray arrays[kSumInputs + 1];
    for (int k = 0; k < count; ++k) arrays[k] = {inputs[k], nullptr, dtype_bytes(input_dtypes[k]), 1, 0};
    arrays[count] = {nullptr, out, dtype_bytes(out_dtype), 1, 0};
    staged_call(n, kVector, 0, arrays, count + 1, [&](cudaStream_t s, const DeviceArray *d, int64_t, int64_t len) {
      const void *device_inputs[kSumInputs];
      for (int k = 0; k < count; ++k) device_inputs[k] = d[k].data;
      launch_weighted_sum(s, count, device_inputs, input_dtypes, coefficients, nullptr, d[count].data, out_dtype, len);
    });
    return;
  }
  // More inputs than one launch takes: the chain continues group by group through an f32 accumulator, which the
  // last group narrows to out_dtype (the same operations in the same order).
  std::vector<float> acc(static_cast<size_t>(n));
  for (int32_t start = 0; start < count && !failed(); start += kSumInputs) {
    const int32_t group = std::min<int32_t>(kSumInputs, count - start);
    const bool last = start + group == count;
    HostArray arrays[kSumInputs + 2];
    for (int k = 0; k < group; ++k)
      arrays[k] = {inputs[start + k], nullptr, dtype_bytes(input_dtypes[start + k]), 1, 0};
    arrays[group] = {start == 0 ? nullptr : acc.data(), nullptr, 4, 1, 0};
    arrays[group + 1] = {nullptr, last ? out : static_cast<void *>(acc.data()), last ? dtype_bytes(out_dtype) : 4, 1,
                         0};
    staged_call(n, kVector, 0, arrays, group + 2, [&](cudaStream_t s, const DeviceArray *d, int64_t, int64_t len) {
      const void *device_inputs[kSumInputs];
      for (int k = 0; k < group; ++k) device_inputs[k] = d[k].data;
      launch_weighted_sum(s, group, device_inputs, input_dtypes + start, coefficients + start,
                          start == 0 ? nullptr : d[group].row<const float>(0), d[group + 1].data,
                          last ? out_dtype : AMALGAM_DTYPE_F32, len);
    });
  }
}

void dot3(const void *x, int32_t x_dtype, const void *y, int32_t y_dtype, int64_t n, double *result) {
  const int64_t blocks = (n + AMALGAM_DOT_BLOCK - 1) / AMALGAM_DOT_BLOCK;
  double *sums = dot3_scratch(blocks);
  if (sums == nullptr) return;
  const HostArray arrays[2] = {{x, nullptr, dtype_bytes(x_dtype), 1, 0}, {y, nullptr, dtype_bytes(y_dtype), 1, 0}};
  const bool ok = staged_call(
      n, AMALGAM_DOT_BLOCK, 0, arrays, 2, [&](cudaStream_t s, const DeviceArray *d, int64_t first, int64_t len) {
        launch_dot3_blocks(s, d[0].data, x_dtype, d[1].data, y_dtype, len, first / AMALGAM_DOT_BLOCK, sums);
      });
  if (!ok) return;
  const cudaError_t e = finish_dot3(main_stream(), sums, blocks, 0, result);
  if (e != cudaSuccess) record_error(e);
}

// ------------------------------------------------------------------------------------------------ device pointers

namespace {

int32_t last_launch() { return static_cast<int32_t>(cudaGetLastError()); }

cudaStream_t as_stream(int64_t stream) { return reinterpret_cast<cudaStream_t>(static_cast<intptr_t>(stream)); }

void *as_device(int64_t address) { return reinterpret_cast<void *>(static_cast<intptr_t>(address)); }

}  // namespace

int32_t device_convert(int32_t device, int64_t stream, int64_t src, int32_t src_dtype, int64_t dst, int32_t dst_dtype,
                       int64_t n) {
  int32_t e = use_device(device);
  if (e != 0 || n == 0) return e;
  select_thread_device(device);  // grid_for() sizes the grid from this device's context
  launch_convert(as_stream(stream), as_device(src), src_dtype, as_device(dst), dst_dtype, n);
  return last_launch();
}

int32_t device_weighted_sum(int32_t device, int64_t stream, int32_t count, const int64_t *inputs, const int32_t *dtypes,
                            const float *coefficients, int64_t out, int32_t out_dtype, int64_t n) {
  int32_t e = use_device(device);
  if (e != 0 || n == 0) return e;
  select_thread_device(device);  // grid_for() sizes the grid from this device's context
  if (count > kSumInputs) return static_cast<int32_t>(cudaErrorInvalidValue);
  const void *pointers[kSumInputs];
  for (int k = 0; k < count; ++k) pointers[k] = as_device(inputs[k]);
  launch_weighted_sum(as_stream(stream), count, pointers, dtypes, coefficients, nullptr, as_device(out), out_dtype, n);
  return last_launch();
}

int32_t device_dot3(int32_t device, int64_t stream, int64_t x, int32_t x_dtype, int64_t y, int32_t y_dtype, int64_t n,
                    double *result) {
  int32_t e = use_device(device);
  if (e != 0) return e;
  select_thread_device(device);
  const int64_t blocks = (n + AMALGAM_DOT_BLOCK - 1) / AMALGAM_DOT_BLOCK;
  double *sums = dot3_scratch(blocks);
  if (sums == nullptr) return take_error();
  cudaStream_t s = as_stream(stream);
  if (n > 0) launch_dot3_blocks(s, as_device(x), x_dtype, as_device(y), y_dtype, n, 0, sums);
  return static_cast<int32_t>(finish_dot3(s, sums, blocks, AMALGAM_DOT_SEGMENT / AMALGAM_DOT_BLOCK, result));
}

}  // namespace cuda
}  // namespace amalgam
