// Gibbs / Metropolis random scan with a site shared by all replicas, many steps in one XLA custom call
// (see neurosim/_fastscan.py).
//
// At step t every replica tests the same spin i_t (the model's shared site sequence). Per step and
// replica: the field of i_t, exactly, from its neighbour rows (the spins are stored (n, R), so a row is
// contiguous over replicas and the sum vectorises over them); the model's random word for (replica, t)
// — the same integer hashes as neurosim.random —; the acceptance test u < P[t, field]; the flip and the
// energy. Every `block` steps, the engine's best-state capture per replica.
//
// Bit-identity with the jax path (models/_gibbs.py, _step_shared):
// * the couplings and biases lie on a lattice 1/scale (scale a power of two) with every |field|*scale
//   < 2^23, so the jax path's float32 row sum is exact in any order and equals acc/scale, with acc the
//   int32 sum here;
// * P (the heat-bath probability of s=+1, or the Metropolis acceptance indexed by s*field) is computed
//   by XLA for every step and lattice value with the model's own jnp expression;
// * u and the energy update are the jax path's float32 operations (no FMA, no fast-math).
// Replicas are independent given the site sequence, so they are split across threads in slabs.
#include <sched.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

inline uint32_t triple32(uint32_t x) {
  x ^= x >> 17;
  x *= 0xED5AD4BBu;
  x ^= x >> 11;
  x *= 0xAC4C1B51u;
  x ^= x >> 15;
  x *= 0x31848BABu;
  x ^= x >> 14;
  return x;
}

constexpr uint32_t kGolden = 0x9E3779B9u;
constexpr uint32_t kAcceptSalt = 0x2545F491u;  // Gibbs._step_shared: nsr.bits(key, 0x2545F491)

// Vector width of the field sums: AVX-512BW registers where the library is built for them, else 32
// bytes (AVX2; two NEON registers). GCC/Clang vector extensions, so the code stays portable.
#if defined(__AVX512BW__)
constexpr int kVecBytes = 64;
#else
constexpr int kVecBytes = 32;
#endif
constexpr int kLanes = kVecBytes / 2;  // int16 lanes
constexpr int kTile = 4;               // vectors of replicas summed together, kept in registers
typedef int8_t I8v __attribute__((vector_size(kVecBytes / 2)));
typedef int16_t I16v __attribute__((vector_size(kVecBytes)));
typedef int32_t I32v __attribute__((vector_size(kVecBytes * 2)));

struct Problem {
  const int32_t* nb;   // (n, K) neighbour indices
  const int32_t* wq;   // (n, K) weights * scale (exact integers)
  const int32_t* deg;  // (n,)
  const int32_t* hq;   // (n,) biases * scale
  int64_t n, K;
  bool narrow;  // every partial field sum fits int16 (|f|*scale <= 32767): 16-bit vector sums
};

struct Run {
  const int32_t* site;  // (steps,)
  const float* prob;    // (steps, L): P at lattice value kmin + k
  const uint32_t* keys; // (R, 2)
  int64_t steps, L, kmin, block, t0;
  bool metropolis, capture;
  float inv_scale;
};

struct Slab {
  // The slab's spins: replicas [r0, r1) as rows of `stride` bytes, replica r0 at s[0] (one thread's
  // own copy when there are several, so no cache line is written by two cores; else the output).
  int8_t* s;
  int64_t stride;
  float* e;          // (R,)
  float* best_e;     // (R,)
  int8_t* best_s;    // (R, n)
  float* e_blocks;   // (steps / block, R)
  int64_t R, r0, r1;
};

// One step's test of every replica in the slab, without branches (so it vectorises: the hashes, the
// table gather, the flip and the energy update of 8/16 replicas per instruction). The energy update is
// the jax path's e - d*f for every replica, d = 0 included.
template <bool kMetropolis>
void test_slab(const Run& run, const Slab& sl, const int32_t* __restrict a, int8_t* __restrict si, uint32_t t,
               const float* __restrict P) {
  const int64_t width = sl.r1 - sl.r0;
  const uint32_t* __restrict keys = run.keys + 2 * sl.r0;
  float* __restrict e = sl.e + sl.r0;
  const int32_t kmin = static_cast<int32_t>(run.kmin);
  const float inv_scale = run.inv_scale;
  const uint32_t tg = t * kGolden;
  for (int64_t r = 0; r < width; ++r) {
    // neurosim.random.step_words(keys, t), then bits(word, kAcceptSalt), then to_uniform
    const uint32_t word = triple32(keys[2 * r] ^ triple32(keys[2 * r + 1] + tg));
    const uint32_t b = triple32(word ^ kAcceptSalt);
    const float u = (static_cast<float>(static_cast<int32_t>(b >> 8)) + 0.5f) * 5.9604644775390625e-08f;  // 2^-24
    const int32_t old = si[r];
    const int32_t idx = (kMetropolis ? old * a[r] : a[r]) - kmin;
    const int32_t yes = u < P[idx];
    const int32_t nw = kMetropolis ? old * (1 - 2 * yes) : 2 * yes - 1;
    const float d = static_cast<float>(nw - old);          // 0 or +-2
    const float f = static_cast<float>(a[r]) * inv_scale;  // exact
    e[r] = e[r] - d * f;
    si[r] = static_cast<int8_t>(nw);
  }
}

// Replicas [r, r + V*kLanes) of a[r] = hq[i] + sum_q wq[i,q] * s[nb[i,q], r0 + r], in int16 registers:
// each neighbour row is read once, as int8, and the V vectors of sums never leave the registers.
template <int V>
void tile_sums(const Problem& p, const Slab& sl, const int32_t* nbi, const int32_t* wi, int32_t deg, int16_t h,
               int64_t r, int32_t* __restrict a) {
  I16v acc[V];
  for (int v = 0; v < V; ++v) acc[v] = I16v{} + h;
  for (int32_t q = 0; q < deg; ++q) {
    const int8_t* row = sl.s + static_cast<int64_t>(nbi[q]) * sl.stride + r;
    const int16_t w = static_cast<int16_t>(wi[q]);
    for (int v = 0; v < V; ++v) {
      I8v x;
      std::memcpy(&x, row + v * kLanes, sizeof(x));
      acc[v] += w * __builtin_convertvector(x, I16v);
    }
  }
  for (int v = 0; v < V; ++v) {
    const I32v o = __builtin_convertvector(acc[v], I32v);
    std::memcpy(a + r + v * kLanes, &o, sizeof(o));
  }
}

// a[r] = hq[i] + sum_q wq[i,q] * s[nb[i,q], r0 + r] for the slab's replicas, exact integers.
void field_sums(const Problem& p, const Slab& sl, int32_t i, int32_t* __restrict a) {
  const int64_t width = sl.r1 - sl.r0;
  const int32_t* nbi = p.nb + static_cast<int64_t>(i) * p.K;
  const int32_t* wi = p.wq + static_cast<int64_t>(i) * p.K;
  const int32_t deg = p.deg[i];
  int64_t r = 0;
  if (p.narrow) {
    const int16_t h = static_cast<int16_t>(p.hq[i]);
    for (; r + kTile * kLanes <= width; r += kTile * kLanes) tile_sums<kTile>(p, sl, nbi, wi, deg, h, r, a);
    for (; r + kLanes <= width; r += kLanes) tile_sums<1>(p, sl, nbi, wi, deg, h, r, a);
  }
  if (r < width) {  // the rest (or every replica when the sums need 32 bits)
    std::fill(a + r, a + width, p.hq[i]);
    for (int32_t q = 0; q < deg; ++q) {
      const int8_t* row = sl.s + static_cast<int64_t>(nbi[q]) * sl.stride;
      const int32_t w = wi[q];
      for (int64_t k = r; k < width; ++k) a[k] += w * static_cast<int32_t>(row[k]);
    }
  }
}

void run_slab(const Problem& p, const Run& run, const Slab& sl) {
  const int64_t R = sl.R, r0 = sl.r0, width = sl.r1 - sl.r0;
  std::vector<int32_t> acc(static_cast<size_t>(width));
  for (int64_t k = 0; k < run.steps; ++k) {
    const int32_t i = run.site[k];
    if (k + 2 < run.steps) {  // the table row two steps ahead: it streams from memory, and gathers do not prefetch
      const float* ahead = run.prob + (k + 2) * run.L;
      for (int64_t o = 0; o < run.L; o += 16) __builtin_prefetch(ahead + o);
    }
    int32_t* a = acc.data();
    field_sums(p, sl, i, a);
    int8_t* si = sl.s + static_cast<int64_t>(i) * sl.stride;
    const uint32_t t = static_cast<uint32_t>(run.t0 + k);
    if (run.metropolis)
      test_slab<true>(run, sl, a, si, t, run.prob + k * run.L);
    else
      test_slab<false>(run, sl, a, si, t, run.prob + k * run.L);
    if ((k + 1) % run.block == 0) {
      float* eb = sl.e_blocks + (k / run.block) * R;
      for (int64_t rep = r0; rep < sl.r1; ++rep) {
        eb[rep] = sl.e[rep];
        if (run.capture && sl.e[rep] < sl.best_e[rep]) {
          sl.best_e[rep] = sl.e[rep];
          int8_t* bs = sl.best_s + rep * p.n;
          for (int64_t j = 0; j < p.n; ++j) bs[j] = sl.s[j * sl.stride + (rep - r0)];
        }
      }
    }
  }
}

int usable_threads(int64_t R, int64_t requested) {
  int cpus = static_cast<int>(std::thread::hardware_concurrency());
#ifdef CPU_COUNT
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) cpus = CPU_COUNT(&set);  // taskset / cgroup pinning
#endif
  int64_t k = requested > 0 ? requested : std::max(1, cpus);
  k = std::min<int64_t>(k, std::max<int64_t>(1, R / 64));  // a slab of fewer than 64 replicas is not worth a thread
  return static_cast<int>(std::max<int64_t>(1, k));
}

}  // namespace

static ffi::Error ScanImpl(ffi::Buffer<ffi::S8> s_in, ffi::Buffer<ffi::F32> e_in, ffi::Buffer<ffi::F32> be_in,
                           ffi::Buffer<ffi::S8> bs_in, ffi::Buffer<ffi::S32> sites, ffi::Buffer<ffi::F32> prob,
                           ffi::Buffer<ffi::U32> keys, ffi::Buffer<ffi::S32> nb, ffi::Buffer<ffi::S32> wq,
                           ffi::Buffer<ffi::S32> deg, ffi::Buffer<ffi::S32> hq, ffi::Buffer<ffi::S32> t_first, int64_t kmin,
                           int64_t scale, int64_t metropolis, int64_t block, int64_t capture, int64_t threads,
                           ffi::ResultBuffer<ffi::S8> s_out, ffi::ResultBuffer<ffi::F32> e_out,
                           ffi::ResultBuffer<ffi::F32> be_out, ffi::ResultBuffer<ffi::S8> bs_out,
                           ffi::ResultBuffer<ffi::F32> e_blocks) {
  const int64_t n = static_cast<int64_t>(deg.element_count());
  const int64_t R = static_cast<int64_t>(e_in.element_count());
  const int64_t steps = static_cast<int64_t>(sites.element_count());
  if (block <= 0 || steps % block != 0) return ffi::Error::InvalidArgument("steps must be a multiple of block");
  if (n <= 0 || R <= 0 || steps <= 0 || prob.element_count() % steps != 0)
    return ffi::Error::InvalidArgument("inconsistent shapes");
  Problem p{nb.typed_data(), wq.typed_data(), deg.typed_data(), hq.typed_data(), n,
            static_cast<int64_t>(nb.element_count()) / n, -kmin <= 32767};
  Run run{sites.typed_data(), prob.typed_data(), keys.typed_data(), steps,
          static_cast<int64_t>(prob.element_count()) / steps, kmin, block, static_cast<int64_t>(t_first.typed_data()[0]), metropolis != 0, capture != 0,
          1.0f / static_cast<float>(scale)};
  std::memcpy(s_out->typed_data(), s_in.typed_data(), static_cast<size_t>(n * R));
  std::memcpy(e_out->typed_data(), e_in.typed_data(), static_cast<size_t>(R) * sizeof(float));
  std::memcpy(be_out->typed_data(), be_in.typed_data(), static_cast<size_t>(R) * sizeof(float));
  std::memcpy(bs_out->typed_data(), bs_in.typed_data(), static_cast<size_t>(bs_in.element_count()));
  const int nt = usable_threads(R, threads);
  // slabs of whole 64-replica groups, so two threads never write the same cache line of a row
  const int64_t groups = (R + 63) / 64;
  std::vector<Slab> slabs;
  std::vector<std::vector<int8_t>> own(nt > 1 ? nt : 0);  // per-thread spin copies (see Slab)
  int8_t* s_all = s_out->typed_data();
  for (int k = 0; k < nt; ++k) {
    const int64_t r0 = std::min(R, groups * k / nt * 64), r1 = std::min(R, groups * (k + 1) / nt * 64);
    if (r1 <= r0) continue;
    int8_t* base = s_all + r0;
    int64_t stride = R;
    if (nt > 1) {
      const int64_t w = r1 - r0;
      own[k].resize(static_cast<size_t>(n * w));
      for (int64_t j = 0; j < n; ++j) std::memcpy(own[k].data() + j * w, s_all + j * R + r0, static_cast<size_t>(w));
      base = own[k].data();
      stride = w;
    }
    slabs.push_back(Slab{base, stride, e_out->typed_data(), be_out->typed_data(), bs_out->typed_data(),
                         e_blocks->typed_data(), R, r0, r1});
  }
  std::vector<std::thread> pool;
  for (size_t k = 1; k < slabs.size(); ++k) pool.emplace_back(run_slab, std::cref(p), std::cref(run), std::cref(slabs[k]));
  run_slab(p, run, slabs[0]);
  for (auto& th : pool) th.join();
  for (const Slab& sl : slabs) {
    if (sl.s == s_all + sl.r0) continue;  // ran in place
    const int64_t w = sl.r1 - sl.r0;
    for (int64_t j = 0; j < n; ++j) std::memcpy(s_all + j * R + sl.r0, sl.s + j * w, static_cast<size_t>(w));
  }
  return ffi::Error::Success();
}

XLA_FFI_DEFINE_HANDLER_SYMBOL(NeurosimGibbsScan, ScanImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::S8>>()   // s (n, R)
                                  .Arg<ffi::Buffer<ffi::F32>>()  // energy (R,)
                                  .Arg<ffi::Buffer<ffi::F32>>()  // best energy (R,)
                                  .Arg<ffi::Buffer<ffi::S8>>()   // best state (R, n)
                                  .Arg<ffi::Buffer<ffi::S32>>()  // tested spin per step (steps,)
                                  .Arg<ffi::Buffer<ffi::F32>>()  // acceptance per step and lattice value (steps, L)
                                  .Arg<ffi::Buffer<ffi::U32>>()  // replica keys (R, 2)
                                  .Arg<ffi::Buffer<ffi::S32>>()  // neighbour indices (n, K)
                                  .Arg<ffi::Buffer<ffi::S32>>()  // weights * scale (n, K)
                                  .Arg<ffi::Buffer<ffi::S32>>()  // degree per row (n,)
                                  .Arg<ffi::Buffer<ffi::S32>>()  // biases * scale (n,)
                                  .Arg<ffi::Buffer<ffi::S32>>()  // global step of the first step (1,)
                                  .Attr<int64_t>("kmin")         // lattice index of P[:, 0]
                                  .Attr<int64_t>("scale")        // lattice 1/scale (a power of two)
                                  .Attr<int64_t>("metropolis")   // 0: heat bath, 1: Metropolis
                                  .Attr<int64_t>("block")        // steps between captures
                                  .Attr<int64_t>("capture")      // 0: no best-state capture
                                  .Attr<int64_t>("threads")      // 0: the CPUs this process may use
                                  .Ret<ffi::Buffer<ffi::S8>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::S8>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());  // energy after each block (steps/block, R)
