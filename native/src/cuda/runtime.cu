// The CUDA library's runtime side: the entry the CPU library attaches, device queries, per-thread error recording,
// the per-thread staging contexts and the staged runner (amalgam.h contract point 10, docs/native.md §6).
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "../cuda_entry.h"
#include "cuda_common.cuh"

namespace amalgam {
namespace cuda {

namespace {

thread_local int32_t tl_error = 0;
thread_local int32_t tl_device = 0;

// Bytes per staging slot; two slots per thread and device, each pinned on the host and mirrored on the device.
std::atomic<int64_t> g_slot_bytes{32LL << 20};
// Whether piece p + 1 is copied in while piece p runs (the default); off, each piece completes first.
std::atomic<bool> g_pipelining{true};

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

struct Slot {
  char *pinned = nullptr;
  char *device = nullptr;
  int64_t bytes = 0;
  bool pending = false;  // outputs of a piece wait in this slot
  int64_t first = 0;
  int64_t length = 0;
  int64_t piece = 0;
};

struct Context {
  int32_t device = -1;
  cudaStream_t streams[2] = {nullptr, nullptr};
  Slot slots[2];
  void *device_scratch = nullptr;
  int64_t device_scratch_bytes = 0;
  void *host_scratch = nullptr;
  int64_t host_scratch_bytes = 0;
  int multiprocessors = 1;

  ~Context() {
    // At process exit the runtime may already be gone; errors here change nothing.
    for (Slot &s : slots) {
      if (s.pinned != nullptr) cudaFreeHost(s.pinned);
      if (s.device != nullptr) cudaFree(s.device);
    }
    if (device_scratch != nullptr) cudaFree(device_scratch);
    if (host_scratch != nullptr) cudaFreeHost(host_scratch);
    for (cudaStream_t s : streams) {
      if (s != nullptr) cudaStreamDestroy(s);
    }
    cudaGetLastError();
  }
};

thread_local std::vector<std::unique_ptr<Context>> tl_contexts;

// The calling thread's context on its current device, created on first use; null after a recorded error.
Context *context() {
  int32_t device = tl_device;
  if (device < 0) return nullptr;
  if (static_cast<size_t>(device) >= tl_contexts.size()) tl_contexts.resize(static_cast<size_t>(device) + 1);
  std::unique_ptr<Context> &slot = tl_contexts[static_cast<size_t>(device)];
  if (!slot) {
    auto c = std::make_unique<Context>();
    c->device = device;
    for (cudaStream_t &s : c->streams) {
      cudaError_t e = cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
      if (e != cudaSuccess) {
        record_error(e);
        return nullptr;
      }
    }
    int sms = 1;
    if (cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) == cudaSuccess) c->multiprocessors = sms;
    slot = std::move(c);
  }
  return slot.get();
}

bool ensure_slot(Context *c, Slot &s, int64_t bytes) {
  if (s.bytes >= bytes) return true;
  if (s.pinned != nullptr) cudaFreeHost(s.pinned);
  if (s.device != nullptr) cudaFree(s.device);
  s.pinned = nullptr;
  s.device = nullptr;
  s.bytes = 0;
  (void)c;
  cudaError_t e = cudaHostAlloc(reinterpret_cast<void **>(&s.pinned), static_cast<size_t>(bytes), cudaHostAllocDefault);
  if (e == cudaSuccess) e = cudaMalloc(reinterpret_cast<void **>(&s.device), static_cast<size_t>(bytes));
  if (e != cudaSuccess) {
    record_error(e);
    return false;
  }
  s.bytes = bytes;
  return true;
}

// Where array a's row r sits in a slot laid out for pieces of `piece` elements.
struct Layout {
  int64_t offset[kMaxStagedArrays];
  int64_t pitch[kMaxStagedArrays];
  int64_t bytes;
};

Layout layout_for(const HostArray *arrays, int count, int64_t piece) {
  Layout l{};
  int64_t off = 0;
  for (int a = 0; a < count; ++a) {
    l.offset[a] = off;
    l.pitch[a] = round_up(piece * arrays[a].element_bytes, 256);
    off += l.pitch[a] * arrays[a].rows;
  }
  l.bytes = std::max<int64_t>(off, 256);
  return l;
}

void copy_out(const Slot &s, const HostArray *arrays, int count, const Layout &l) {
  for (int a = 0; a < count; ++a) {
    if (arrays[a].output == nullptr) continue;
    const int64_t eb = arrays[a].element_bytes;
    for (int64_t r = 0; r < arrays[a].rows; ++r) {
      char *dst = static_cast<char *>(arrays[a].output) + (r * arrays[a].row_stride + s.first) * eb;
      std::memcpy(dst, s.pinned + l.offset[a] + r * l.pitch[a], static_cast<size_t>(s.length * eb));
    }
  }
}

}  // namespace

void record_error(cudaError_t error) {
  if (tl_error == 0) tl_error = static_cast<int32_t>(error);
}

int32_t take_error() {
  int32_t e = tl_error;
  tl_error = 0;
  return e;
}

bool failed() { return tl_error != 0; }

int32_t current_device() { return tl_device; }

void select_thread_device(int32_t device) { tl_device = device; }

int32_t use_device(int32_t device) {
  int current = -1;
  cudaError_t e = cudaGetDevice(&current);
  if (e == cudaSuccess && current != device) e = cudaSetDevice(device);
  return static_cast<int32_t>(e);
}

int grid_for(int64_t work_items) {
  Context *c = context();
  const int64_t cap = static_cast<int64_t>(c != nullptr ? c->multiprocessors : 1) * 8;
  const int64_t blocks = (work_items + kThreads - 1) / kThreads;
  return static_cast<int>(std::max<int64_t>(1, std::min(blocks, cap)));
}

bool launched() {
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) {
    record_error(e);
    return false;
  }
  return true;
}

cudaStream_t main_stream() {
  Context *c = context();
  return c != nullptr ? c->streams[0] : nullptr;
}

void *device_scratch(int64_t bytes) {
  Context *c = context();
  if (c == nullptr) return nullptr;
  if (c->device_scratch_bytes < bytes) {
    // The scratch may still be in use by queued work of this thread.
    cudaStreamSynchronize(c->streams[0]);
    cudaStreamSynchronize(c->streams[1]);
    if (c->device_scratch != nullptr) cudaFree(c->device_scratch);
    c->device_scratch = nullptr;
    c->device_scratch_bytes = 0;
    cudaError_t e = cudaMalloc(&c->device_scratch, static_cast<size_t>(bytes));
    if (e != cudaSuccess) {
      record_error(e);
      return nullptr;
    }
    c->device_scratch_bytes = bytes;
  }
  return c->device_scratch;
}

void *host_scratch(int64_t bytes) {
  Context *c = context();
  if (c == nullptr) return nullptr;
  if (c->host_scratch_bytes < bytes) {
    cudaStreamSynchronize(c->streams[0]);
    cudaStreamSynchronize(c->streams[1]);
    if (c->host_scratch != nullptr) cudaFreeHost(c->host_scratch);
    c->host_scratch = nullptr;
    c->host_scratch_bytes = 0;
    cudaError_t e = cudaHostAlloc(&c->host_scratch, static_cast<size_t>(bytes), cudaHostAllocDefault);
    if (e != cudaSuccess) {
      record_error(e);
      return nullptr;
    }
    c->host_scratch_bytes = bytes;
  }
  return c->host_scratch;
}

bool staged(int64_t n, int64_t align, int64_t max_piece, const HostArray *arrays, int count, LaunchFn launch,
            void *state) {
  if (failed()) return false;
  if (n <= 0) return true;
  if (count < 0 || count > kMaxStagedArrays) {
    record_error(cudaErrorInvalidValue);
    return false;
  }
  Context *c = context();
  if (c == nullptr) return false;
  if (align < 1) align = 1;
  int64_t per_element = 0;
  for (int a = 0; a < count; ++a) per_element += arrays[a].element_bytes * arrays[a].rows;
  int64_t piece = per_element > 0 ? g_slot_bytes / per_element : n;
  piece -= piece % align;
  if (piece < align) piece = align;
  if (max_piece > 0 && piece > max_piece) piece = std::max<int64_t>(align, max_piece - max_piece % align);
  piece = std::min(piece, round_up(n, align));
  const Layout layout = layout_for(arrays, count, piece);
  for (Slot &s : c->slots) {
    if (s.pending) {
      record_error(cudaErrorIllegalState);
      return false;
    }
    if (!ensure_slot(c, s, layout.bytes)) return false;
  }
  DeviceArray views[kMaxStagedArrays];
  int64_t index = 0;
  bool ok = true;
  for (int64_t first = 0; first < n && ok; first += piece, ++index) {
    Slot &s = c->slots[index & 1];
    cudaStream_t stream = c->streams[index & 1];
    if (s.pending) {
      cudaError_t e = cudaStreamSynchronize(stream);
      if (e != cudaSuccess) {
        record_error(e);
        ok = false;
        break;
      }
      copy_out(s, arrays, count, layout);
      s.pending = false;
    }
    const int64_t length = std::min(piece, n - first);
    for (int a = 0; a < count; ++a) {
      views[a].data = s.device + layout.offset[a];
      views[a].row_pitch = layout.pitch[a];
      if (arrays[a].input == nullptr) continue;
      const int64_t eb = arrays[a].element_bytes;
      for (int64_t r = 0; r < arrays[a].rows; ++r) {
        const char *src = static_cast<const char *>(arrays[a].input) + (r * arrays[a].row_stride + first) * eb;
        std::memcpy(s.pinned + layout.offset[a] + r * layout.pitch[a], src, static_cast<size_t>(length * eb));
      }
      const int64_t bytes = (arrays[a].rows - 1) * layout.pitch[a] + length * eb;
      cudaError_t e = cudaMemcpyAsync(s.device + layout.offset[a], s.pinned + layout.offset[a],
                                      static_cast<size_t>(bytes), cudaMemcpyHostToDevice, stream);
      if (e != cudaSuccess) {
        record_error(e);
        ok = false;
        break;
      }
    }
    if (!ok) break;
    launch(state, stream, views, first, length);
    if (!launched() || failed()) {
      ok = false;
      break;
    }
    for (int a = 0; a < count; ++a) {
      if (arrays[a].output == nullptr) continue;
      const int64_t bytes = (arrays[a].rows - 1) * layout.pitch[a] + length * arrays[a].element_bytes;
      cudaError_t e = cudaMemcpyAsync(s.pinned + layout.offset[a], s.device + layout.offset[a],
                                      static_cast<size_t>(bytes), cudaMemcpyDeviceToHost, stream);
      if (e != cudaSuccess) {
        record_error(e);
        ok = false;
        break;
      }
    }
    s.pending = true;
    s.first = first;
    s.length = length;
    s.piece = index;
    if (!g_pipelining) {
      cudaError_t e = cudaStreamSynchronize(stream);
      if (e != cudaSuccess) {
        record_error(e);
        ok = false;
        break;
      }
      copy_out(s, arrays, count, layout);
      s.pending = false;
    }
  }
  // Drain the older piece first; on error drop what is pending (the caller reports the error).
  int order[2] = {0, 1};
  if (c->slots[1].pending && (!c->slots[0].pending || c->slots[1].piece < c->slots[0].piece)) {
    order[0] = 1;
    order[1] = 0;
  }
  for (int k : order) {
    Slot &s = c->slots[k];
    if (!s.pending) continue;
    cudaError_t e = cudaStreamSynchronize(c->streams[k]);
    if (e != cudaSuccess) {
      record_error(e);
      ok = false;
    }
    if (ok) copy_out(s, arrays, count, layout);
    s.pending = false;
  }
  return ok;
}

namespace {

int32_t device_count(int32_t *count) {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  *count = e == cudaSuccess ? n : 0;
  return static_cast<int32_t>(e);
}

int32_t device_info(int32_t device, char *name, int32_t name_capacity, int64_t *memory, int32_t *numbers) {
  cudaDeviceProp prop;
  cudaError_t e = cudaGetDeviceProperties(&prop, device);
  if (e != cudaSuccess) return static_cast<int32_t>(e);
  if (name != nullptr && name_capacity > 0) {
    std::snprintf(name, static_cast<size_t>(name_capacity), "%s", prop.name);
  }
  int driver = 0, runtime = 0;
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  numbers[0] = prop.major;
  numbers[1] = prop.minor;
  numbers[2] = prop.multiProcessorCount;
  numbers[3] = driver;
  numbers[4] = runtime;
  numbers[5] = prop.pciBusID;
  memory[0] = static_cast<int64_t>(prop.totalGlobalMem);
  memory[1] = 0;
  int previous = 0;
  cudaGetDevice(&previous);
  e = cudaSetDevice(device);
  if (e == cudaSuccess) {
    size_t free_bytes = 0, total = 0;
    e = cudaMemGetInfo(&free_bytes, &total);
    if (e == cudaSuccess) memory[1] = static_cast<int64_t>(free_bytes);
  }
  cudaSetDevice(previous);
  return static_cast<int32_t>(e);
}

const char *error_name(int32_t error) { return cudaGetErrorName(static_cast<cudaError_t>(error)); }

const char *error_string(int32_t error) { return cudaGetErrorString(static_cast<cudaError_t>(error)); }

int32_t set_staging_bytes(int64_t bytes) {
  if (bytes < (1LL << 20)) return static_cast<int32_t>(cudaErrorInvalidValue);
  g_slot_bytes = bytes;
  return 0;
}

int32_t select_device(int32_t device) {
  const int32_t e = use_device(device);
  if (e != 0) return e;
  tl_device = device;
  return 0;
}

int32_t take_error_entry() { return take_error(); }

int32_t set_pipelining(int32_t on) {
  g_pipelining = on != 0;
  return 0;
}

int32_t device_malloc(int32_t device, int64_t bytes, int64_t *address) {
  *address = 0;
  int32_t e = use_device(device);
  if (e != 0) return e;
  void *p = nullptr;
  e = static_cast<int32_t>(cudaMalloc(&p, static_cast<size_t>(bytes)));
  if (e == 0) *address = static_cast<int64_t>(reinterpret_cast<intptr_t>(p));
  return e;
}

int32_t device_free(int32_t device, int64_t address) {
  int32_t e = use_device(device);
  if (e != 0) return e;
  return static_cast<int32_t>(cudaFree(reinterpret_cast<void *>(static_cast<intptr_t>(address))));
}

int32_t device_copy(int32_t device, int64_t stream, int64_t dst, int64_t src, int64_t bytes, int32_t kind) {
  int32_t e = use_device(device);
  if (e != 0) return e;
  const cudaMemcpyKind k = kind == 1   ? cudaMemcpyHostToDevice
                           : kind == 2 ? cudaMemcpyDeviceToHost
                                       : cudaMemcpyDeviceToDevice;
  return static_cast<int32_t>(cudaMemcpyAsync(
      reinterpret_cast<void *>(static_cast<intptr_t>(dst)), reinterpret_cast<const void *>(static_cast<intptr_t>(src)),
      static_cast<size_t>(bytes), k, reinterpret_cast<cudaStream_t>(static_cast<intptr_t>(stream))));
}

int32_t device_synchronize(int32_t device, int64_t stream) {
  int32_t e = use_device(device);
  if (e != 0) return e;
  return static_cast<int32_t>(cudaStreamSynchronize(reinterpret_cast<cudaStream_t>(static_cast<intptr_t>(stream))));
}

}  // namespace

// Device-pointer kernels (cuda_interop.cu).
int32_t device_convert(int32_t device, int64_t stream, int64_t src, int32_t src_dtype, int64_t dst, int32_t dst_dtype,
                       int64_t n);
int32_t device_weighted_sum(int32_t device, int64_t stream, int32_t count, const int64_t *inputs, const int32_t *dtypes,
                            const float *coefficients, int64_t out, int32_t out_dtype, int64_t n);
int32_t device_dot3(int32_t device, int64_t stream, int64_t x, int32_t x_dtype, int64_t y, int32_t y_dtype, int64_t n,
                    double *result);

// Positional, in kernels.h order; -Werror=missing-field-initializers makes a missing entry a compile error.
const KernelTable kCudaKernels = {
    convert,
    weighted_sum,
    dot3,
    quantize_q8_0,
    dequantize,
    magnitude_histogram_high,
    magnitude_histogram_low,
    philox_uniforms,
    philox_keep,
    disjoint_merge,
    plain_merge,
    magnitude_mask,
    count_nonfinite,
    della_mask,
    gram,
    fusion_histogram_high,
    fusion_histogram_low,
    fusion_select,
    nearswap,
    sce_variance_keys,
    sce_histogram_high,
    sce_histogram_low,
    sce_square_sums,
    sce_merge,
};

const CudaEntry kEntry = {
    kCudaEntryVersion, device_count,  device_info,      error_name,         error_string,        set_staging_bytes,
    &kCudaKernels,     select_device, take_error_entry, device_convert,     device_weighted_sum, device_dot3,
    device_malloc,     device_free,   device_copy,      device_synchronize, set_pipelining,
};

}  // namespace cuda
}  // namespace amalgam

extern "C" const amalgam::CudaEntry *amalgam_cuda_entry(void) { return &amalgam::cuda::kEntry; }
