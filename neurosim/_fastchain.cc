// NeuroSA random-scan chain, many iterations in one XLA custom call (see neurosim/_fastchain.py).
//
// Only the sequential part of the algorithm is here: the tested pair of every iteration and its noisy
// threshold are computed beforehand by XLA, vectorised over the iterations, with the same jnp code as
// the step-by-step path. Per iteration: the field u_i of the tested pair, the fire test
// gain = -s_i*u_i > threshold, the flip and the energy; every `block` iterations the engine's
// best-state capture (energy < best: keep energy and spins).
//
// Fields, bit for bit as RowTable.row_sum (float32, init b[i], acc + w*s in neighbour order):
// * exact tables (integer weights, row sums of |w| <= 2^23) and integer |b| <= 2^23: every partial
//   sum is an integer below 2^24, exact in any order, so the fields of all pairs are computed once per
//   call and updated from the flipped pair's row (O(degree) per flip, as a hand-written loop does);
// * otherwise the tested pair's field is re-summed serially in the padded row order each iteration.
// Built without FMA contraction or fast-math, so each float operation rounds as XLA's does.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

struct Table {
  const int32_t* nb;
  const float* w;
  const int32_t* deg;
  const float* b;
  int64_t n, K, chunk;
};

inline float serial_field(const Table& t, const int8_t* s, int32_t i) {
  const int32_t* nbi = t.nb + static_cast<int64_t>(i) * t.K;
  const float* wi = t.w + static_cast<int64_t>(i) * t.K;
  const int64_t len = (static_cast<int64_t>(t.deg[i]) + t.chunk - 1) / t.chunk * t.chunk;  // whole trips
  float acc = t.b[i];
  for (int64_t q = 0; q < len; ++q) acc = acc + wi[q] * static_cast<float>(s[nbi[q]]);
  return acc;
}

bool integer_bias(const Table& t) {
  for (int64_t j = 0; j < t.n; ++j) {
    const float v = t.b[j];
    if (!(std::fabs(v) <= 8388608.0f) || v != std::nearbyint(v)) return false;
  }
  return true;
}

}  // namespace

static ffi::Error ChainImpl(ffi::Buffer<ffi::S8> s_in, ffi::Buffer<ffi::F32> e_in, ffi::Buffer<ffi::F32> be_in,
                            ffi::Buffer<ffi::S8> bs_in, ffi::Buffer<ffi::S32> sites, ffi::Buffer<ffi::F32> mu,
                            ffi::Buffer<ffi::S32> nb, ffi::Buffer<ffi::F32> w, ffi::Buffer<ffi::S32> deg,
                            ffi::Buffer<ffi::F32> b, int64_t chunk, int64_t exact, int64_t block, int64_t capture,
                            ffi::ResultBuffer<ffi::S8> s_out, ffi::ResultBuffer<ffi::F32> e_out,
                            ffi::ResultBuffer<ffi::F32> be_out, ffi::ResultBuffer<ffi::S8> bs_out,
                            ffi::ResultBuffer<ffi::F32> e_blocks) {
  const int64_t n = static_cast<int64_t>(b.element_count());
  Table t{nb.typed_data(), w.typed_data(), deg.typed_data(), b.typed_data(), n,
          static_cast<int64_t>(nb.element_count()) / (n > 0 ? n : 1), chunk};
  const int64_t steps = static_cast<int64_t>(sites.element_count());
  if (block <= 0 || steps % block != 0) return ffi::Error::InvalidArgument("steps must be a multiple of block");
  int8_t* s = s_out->typed_data();
  int8_t* best_s = bs_out->typed_data();
  std::memcpy(s, s_in.typed_data(), static_cast<size_t>(n));
  std::memcpy(best_s, bs_in.typed_data(), static_cast<size_t>(n));
  const int32_t* site = sites.typed_data();
  const float* thr = mu.typed_data();
  float* eb = e_blocks->typed_data();
  float e = e_in.typed_data()[0];
  float best_e = be_in.typed_data()[0];

  const bool incremental = exact != 0 && integer_bias(t);
  std::vector<float> u;
  if (incremental) {
    u.resize(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j) u[j] = serial_field(t, s, static_cast<int32_t>(j));
  }
  for (int64_t k = 0; k < steps; ++k) {
    const int32_t i = site[k];
    const float ui = incremental ? u[i] : serial_field(t, s, i);
    const float gain = -static_cast<float>(s[i]) * ui;
    if (gain > thr[k]) {
      s[i] = static_cast<int8_t>(-s[i]);
      e = e - gain;
      if (incremental) {  // u_j += w_ji * (s_i' - s_i)
        const float d = 2.0f * static_cast<float>(s[i]);
        const int32_t* nbi = t.nb + static_cast<int64_t>(i) * t.K;
        const float* wi = t.w + static_cast<int64_t>(i) * t.K;
        for (int32_t q = 0; q < t.deg[i]; ++q) u[nbi[q]] += wi[q] * d;
      }
    }
    if ((k + 1) % block == 0) {
      eb[k / block] = e;
      if (capture != 0 && e < best_e) {
        best_e = e;
        std::memcpy(best_s, s, static_cast<size_t>(n));
      }
    }
  }
  e_out->typed_data()[0] = e;
  be_out->typed_data()[0] = best_e;
  return ffi::Error::Success();
}

XLA_FFI_DEFINE_HANDLER_SYMBOL(NeurosimNeurosaChain, ChainImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::S8>>()   // s (n, 1)
                                  .Arg<ffi::Buffer<ffi::F32>>()  // energy (1,)
                                  .Arg<ffi::Buffer<ffi::F32>>()  // best energy (1,)
                                  .Arg<ffi::Buffer<ffi::S8>>()   // best state (1, n)
                                  .Arg<ffi::Buffer<ffi::S32>>()  // tested pair per iteration (steps,)
                                  .Arg<ffi::Buffer<ffi::F32>>()  // threshold per iteration (steps,)
                                  .Arg<ffi::Buffer<ffi::S32>>()  // neighbour indices (n, K)
                                  .Arg<ffi::Buffer<ffi::F32>>()  // weights (n, K)
                                  .Arg<ffi::Buffer<ffi::S32>>()  // degree per row (n,)
                                  .Arg<ffi::Buffer<ffi::F32>>()  // b (n,)
                                  .Attr<int64_t>("chunk")        // RowTable.chunk_wide (one replica)
                                  .Attr<int64_t>("exact")        // RowTable.exact
                                  .Attr<int64_t>("block")        // iterations between captures
                                  .Attr<int64_t>("capture")      // 0: no best-state capture
                                  .Ret<ffi::Buffer<ffi::S8>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::S8>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());  // energy after each block (steps/block,)
