/* focalcli._kernels' passes over a block (the Python glue is _kernels.c):
 * top(...) and the sums of exponentials with the top label, both below.
 *
 * Built with -ffinite-math-only -fno-signed-zeros so that the compiler turns
 * the maximum into vector instructions: a row with a NaN or an infinity
 * gets garbage there, and is reported by its bits before anything reads it;
 * -0 and +0 compare equal, as they do in numpy. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "_passes.h"

/* each pass is built for three instruction sets, the best the machine has
 * chosen at load time (declared plainly in the header: the choice is made
 * here) */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLONES
#endif

#define TOP_KERNEL(NAME, T, U, EXP)                                            \
    CLONES Py_ssize_t NAME(const T *z, const int64_t *t, Py_ssize_t n,         \
                                  Py_ssize_t k, T *zmax, double *gap,          \
                                  uint8_t *top)                                \
    {                                                                          \
        for (Py_ssize_t i = 0; i < n; i++) {                                   \
            const T *r = z + i * k;                                            \
            U bad = 0;                                                         \
            T m = r[0];                                                        \
            for (Py_ssize_t j = 0; j < k; j++) {                               \
                U bits;                                                        \
                memcpy(&bits, r + j, sizeof bits);                             \
                bad |= (U)((bits & EXP) == EXP);                               \
                m = r[j] > m ? r[j] : m;                                       \
            }                                                                  \
            if (bad) {                                                         \
                for (Py_ssize_t j = 0; j < k; j++) {                           \
                    U bits;                                                    \
                    memcpy(&bits, r + j, sizeof bits);                         \
                    if ((bits & EXP) == EXP)                                   \
                        return i * k + j;                                      \
                }                                                              \
            }                                                                  \
            Py_ssize_t at = (Py_ssize_t)t[i];                                  \
            gap[i] = (double)m - (double)(at >= 0 && at < k ? r[at] : m);      \
            int first = at >= 0 && at < k && r[at] == m;                       \
            if (first) { /* an earlier class at the maximum wins */            \
                int before = 0;                                                \
                for (Py_ssize_t j = 0; j < at; j++)                            \
                    before |= r[j] == m;                                       \
                first = !before;                                               \
            }                                                                  \
            zmax[i] = m;                                                       \
            top[i] = (uint8_t)first;                                           \
        }                                                                      \
        return -1;                                                             \
    }

TOP_KERNEL(top_f32, float, uint32_t, 0x7f800000u)
TOP_KERNEL(top_f64, double, uint64_t, 0x7ff0000000000000ull)

/* The same for a class-major block (a dense map's: class c's n scores at
 * z + c * cs, read where the map lies, with no copy), class by class so
 * that every loop runs along memory: the maximum, then the target's
 * equality with it less any earlier class's. The first non-finite score is
 * the first in row order, as above. */
#define TOP_CM_KERNEL(NAME, T, U, EXP)                                         \
    CLONES Py_ssize_t NAME(const T *z, const int64_t *t, Py_ssize_t n,         \
                                  Py_ssize_t k, Py_ssize_t cs, T *zmax,        \
                                  double *gap, uint8_t *top, void *top_scratch)\
    {                                                                          \
        U bad = 0;                                                             \
        for (Py_ssize_t i = 0; i < n; i++)                                     \
            zmax[i] = z[i];                                                    \
        for (Py_ssize_t c = 0; c < k; c++) {                                   \
            const T *col = z + c * cs;                                         \
            for (Py_ssize_t i = 0; i < n; i++) {                               \
                U bits;                                                        \
                memcpy(&bits, col + i, sizeof bits);                           \
                bad |= (U)((bits & EXP) == EXP);                               \
                zmax[i] = col[i] > zmax[i] ? col[i] : zmax[i];                 \
            }                                                                  \
        }                                                                      \
        if (bad) {                                                             \
            Py_ssize_t first = -1;                                             \
            for (Py_ssize_t c = 0; c < k; c++)                                 \
                for (Py_ssize_t i = 0; i < n; i++) {                           \
                    U bits;                                                    \
                    memcpy(&bits, z + c * cs + i, sizeof bits);                \
                    if ((bits & EXP) == EXP) {                                 \
                        if (first < 0 || i * k + c < first)                    \
                            first = i * k + c;                                 \
                        break;                                                 \
                    }                                                          \
                }                                                              \
            return first;                                                      \
        }                                                                      \
        /* the first class at each maximum, last class first */                \
        int32_t *first = (int32_t *)top_scratch;                               \
        for (Py_ssize_t i = 0; i < n; i++)                                     \
            first[i] = (int32_t)k;                                             \
        for (Py_ssize_t c = k - 1; c >= 0; c--) {                              \
            const T *col = z + c * cs;                                         \
            for (Py_ssize_t i = 0; i < n; i++)                                 \
                first[i] = col[i] == zmax[i] ? (int32_t)c : first[i];          \
        }                                                                      \
        for (Py_ssize_t i = 0; i < n; i++) {                                   \
            int64_t at = t[i];                                                 \
            gap[i] = (double)zmax[i] -                                         \
                     (double)(at >= 0 && at < k ? z[at * cs + i] : zmax[i]);   \
            top[i] = (uint8_t)(first[i] == at);                                \
        }                                                                      \
        return -1;                                                             \
    }

TOP_CM_KERNEL(top_cm_f32, float, uint32_t, 0x7f800000u)
TOP_CM_KERNEL(top_cm_f64, double, uint64_t, 0x7ff0000000000000ull)

/* The sum of exponentials, for softmax_parts: per row rest = sum over the
 * classes but the target of exp(z_j), accumulated in float64 in lanes (so
 * the compiler vectorises it without reordering any one sum); the direct
 * form's odds = rest * exp(-z_t) = (1 - p_t) / p_t, or -1 for a row that
 * form cannot hold (rest or z_t out of its limits: the max-shifted path's,
 * counted in the return value); and, when asked, each class's probability
 * summed over the rows the direct form holds (the prior: p_j = exp(z_j) *
 * scale with scale = w / (exp(z_t) + rest), the target's too). The
 * exponentials are Cephes' (float32: ~1 ulp on [-87, 88]; float64: ~1 ulp
 * on [-708, 709]), rounding by the 1.5 * 2^23 (2^52) shift. A row with a
 * non-target score above that range gets rest = +HUGE, and a row whose sum
 * is so small that a term flushed below the range could matter gets rest =
 * 0: both then fail the direct form's test and take the max-shifted float64
 * path in Python, as they would there. In the same read each row's
 * finiteness and top label are found as top(...) finds them. */
static inline float exp_f32(float x)
{
    float k = x * 1.44269504088896341f;
    float t = k + 12582912.0f;
    float fx = t - 12582912.0f;
    float r = x - fx * 0.693359375f;
    r = r - fx * -2.12194440e-4f;
    float y = 1.9875691500E-4f;
    y = y * r + 1.3981999507E-3f;
    y = y * r + 8.3334519073E-3f;
    y = y * r + 4.1665795894E-2f;
    y = y * r + 1.6666665459E-1f;
    y = y * r + 5.0000001201E-1f;
    y = y * (r * r) + r + 1.0f;
    int32_t n = (int32_t)fx;
    uint32_t bits = (uint32_t)(n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return y * scale;
}

static inline double exp_f64(double x)
{
    double k = x * 1.4426950408889634073599;
    double t = k + 6755399441055744.0;
    double px = t - 6755399441055744.0;
    uint64_t tb, mb;
    const double magic = 6755399441055744.0;
    memcpy(&tb, &t, sizeof tb);
    memcpy(&mb, &magic, sizeof mb);
    int64_t n = (int64_t)(tb - mb);
    x -= px * 6.93145751953125E-1;
    x -= px * 1.42860682030941723212E-6;
    double xx = x * x;
    double p = x * ((1.26177193074810590878E-4 * xx + 3.02994407707441961300E-2) * xx +
                    9.99999999999999999910E-1);
    double q = ((3.00198505138664455042E-6 * xx + 2.52448340349684104192E-3) * xx +
                2.27265548208155028766E-1) * xx + 2.00000000000000000009E0;
    x = 1.0 + 2.0 * (p / (q - p));
    uint64_t bits = (uint64_t)(n + 1023) << 52;
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    return x * scale;
}

/* Sums in LANES lanes, two vectors of eight float64s (which the compiler
 * keeps in registers where it kept an array of lanes in memory), each lane
 * summed in one order and the lanes added as a tree at the end (one after
 * another, sixteen additions in a row cost 20 ns a row of 80 scores). */
#define LANES 16
typedef double v8d __attribute__((vector_size(64)));
typedef float v8f __attribute__((vector_size(32)));

/* (macros, not functions: a function passing such vectors has a different
 * ABI in each of the three builds) */
#define wide_f64(p) ({ v8d v_; memcpy(&v_, (p), sizeof v_); v_; })
#define wide_f32(p)                                                            \
    ({                                                                         \
        v8f v_;                                                                \
        memcpy(&v_, (p), sizeof v_);                                           \
        __builtin_convertvector(v_, v8d);                                      \
    })
#define lanes_sum(sum, a, b)                                                   \
    ({                                                                         \
        v8d v_ = (a) + (b);                                                    \
        double l_ = ((v_[0] + v_[4]) + (v_[2] + v_[6])) +                      \
                    ((v_[1] + v_[5]) + (v_[3] + v_[7]));                       \
        (sum) + l_;                                                            \
    })

/* The prior's sums of a group of rows' exponentials (each row's at
 * e + h * k, times its scale sc[h]): one read and write of the prior per
 * group, not per row, each class's terms added in registers. */
#define FLUSH_PRIOR(T, WIDE, prior, e, sc, rows, k)                            \
    do {                                                                       \
        Py_ssize_t c_ = 0;                                                     \
        for (; c_ + 8 <= (k); c_ += 8) {                                       \
            v8d acc_ = {0};                                                    \
            for (Py_ssize_t h_ = 0; h_ < (rows); h_++)                         \
                acc_ += WIDE((e) + h_ * (k) + c_) * (sc)[h_];                  \
            v8d p_ = wide_f64((prior) + c_);                                   \
            p_ += acc_;                                                        \
            memcpy((prior) + c_, &p_, sizeof p_);                              \
        }                                                                      \
        for (; c_ < (k); c_++) {                                               \
            double acc_ = 0.0;                                                 \
            for (Py_ssize_t h_ = 0; h_ < (rows); h_++)                         \
                acc_ += (double)(e)[h_ * (k) + c_] * (sc)[h_];                 \
            (prior)[c_] += acc_;                                               \
        }                                                                      \
    } while (0)

#define SUM_KERNEL(NAME, T, U, BITS, EXP, WIDE, LO, HI, SMALL)                 \
    CLONES Py_ssize_t NAME(const T *z, const int64_t *t, Py_ssize_t n,         \
                           Py_ssize_t k, double *zt, double *rest,             \
                           double *odds, double *prior, const double *w,       \
                           T *buf, T *zmax, double *gap, uint8_t *top,         \
                           Py_ssize_t *bad_at, double rest_min,                \
                           double rest_max, double zt_max)                     \
    {                                                                          \
        Py_ssize_t shifted = 0, group = ROW_GROUP(k, sizeof(T)), g = 0;        \
        double sc[8];                                                          \
        *bad_at = -1;                                                          \
        for (Py_ssize_t i = 0; i < n; i++) {                                   \
            const T *r = z + i * k;                                            \
            T *e = buf + g * k; /* the row's place in the prior's group */     \
            Py_ssize_t at = (Py_ssize_t)t[i];                                  \
            int valid = at >= 0 && at < k;                                     \
            int over = 0, under = 0;                                           \
            U bad = 0;                                                         \
            T m = r[0];                                                        \
            for (Py_ssize_t j = 0; j < k; j++) {                               \
                T x = r[j];                                                    \
                U bits;                                                        \
                memcpy(&bits, r + j, sizeof bits);                             \
                bad |= (U)((bits & BITS) == BITS);                             \
                m = x > m ? x : m;                                             \
                over |= x > HI;                                                \
                under |= x < LO;                                               \
                T c = x > HI ? HI : x;                                         \
                c = c < LO ? LO : c;                                           \
                T v = EXP(c);                                                  \
                e[j] = x < LO ? (T)0 : v;                                      \
            }                                                                  \
            if (bad) { /* nothing of the block is used: the check reports it */\
                for (Py_ssize_t j = 0; j < k; j++) {                           \
                    U bits;                                                    \
                    memcpy(&bits, r + j, sizeof bits);                         \
                    if ((bits & BITS) == BITS) {                               \
                        *bad_at = i * k + j;                                   \
                        break;                                                 \
                    }                                                          \
                }                                                              \
                return shifted;                                                \
            }                                                                  \
            if (zmax != NULL) { /* the top label, torch's first maximum */     \
                T mine = valid ? r[at] : m;                                    \
                int before = 0;                                                \
                if (valid && mine == m)                                        \
                    for (Py_ssize_t j = 0; j < at; j++)                        \
                        before |= r[j] == m;                                   \
                zmax[i] = m;                                                   \
                gap[i] = (double)m - (double)mine;                             \
                top[i] = (uint8_t)(valid && mine == m && !before);             \
            }                                                                  \
            if (!valid) { /* not a class: nothing to sum */                    \
                zt[i] = 0.0;                                                   \
                rest[i] = 0.0;                                                 \
                odds[i] = -1.0;                                                \
                shifted++;                                                     \
                continue;                                                      \
            }                                                                  \
            T target = r[at];                                                  \
            e[at] = 0;                                                         \
            if (over && target > HI) { /* is the target the only one? */       \
                over = 0;                                                      \
                for (Py_ssize_t j = 0; j < k; j++)                             \
                    over |= (j != at) & (r[j] > HI);                           \
            }                                                                  \
            v8d a = {0}, b = {0};                                              \
            Py_ssize_t j = 0;                                                  \
            for (; j + LANES <= k; j += LANES) {                               \
                a += WIDE(e + j);                                              \
                b += WIDE(e + j + 8);                                          \
            }                                                                  \
            double sum = 0;                                                    \
            for (; j < k; j++)                                                 \
                sum += (double)e[j];                                           \
            sum = lanes_sum(sum, a, b);                                        \
            if (over)                                                          \
                sum = 1e300;                                                   \
            else if (under && sum < SMALL)                                     \
                sum = 0.0;                                                     \
            zt[i] = (double)target;                                            \
            rest[i] = sum;                                                     \
            if (sum < rest_min || sum > rest_max || zt[i] > zt_max ||          \
                zt[i] < -zt_max) { /* the max-shifted path's row */            \
                odds[i] = -1.0;                                                \
                shifted++;                                                     \
                continue;                                                      \
            }                                                                  \
            odds[i] = sum * exp_f64(-zt[i]);                                   \
            if (prior == NULL || (w != NULL && w[i] == 0.0))                   \
                continue;                                                      \
            double et = exp_f64(zt[i]);                                        \
            double scale = (w != NULL ? w[i] : 1.0) / (et + sum);              \
            prior[at] += et * scale;                                           \
            sc[g++] = scale;                                                   \
            if (g == group) {                                                  \
                FLUSH_PRIOR(T, WIDE, prior, buf, sc, g, k);                    \
                g = 0;                                                         \
            }                                                                  \
        }                                                                      \
        if (g > 0)                                                             \
            FLUSH_PRIOR(T, WIDE, prior, buf, sc, g, k);                        \
        return shifted;                                                        \
    }

/* The same for a class-major block (a dense map's: class c's n scores at
 * z + c * cs), class by class so that every loop runs along memory, in
 * chunks of CHUNK positions whose exponentials stay in the core's first
 * cache while the sums and the prior read them back; each position's sum
 * is its own lane, summed in class order. As the classes go by, each
 * position keeps its maximum, the first class at it (a later class takes
 * it only when greater) and its target's score, whose exponential is left
 * out, so that every loop over positions is a vector loop too: with 21
 * classes, a position's own arithmetic (two float64 exponentials, a
 * division) cost as much as its scores' exponentials when it ran one
 * position at a time. A block with any score outside the exponential's
 * range has its top label but its sums left to numpy (returns -1; the
 * prior is only added to at the end). scratch: the chunk's exponentials,
 * then 3 * CHUNK + 5 * k doubles, 2 * CHUNK scores and 2 * CHUNK int32s. */
#define SUM_CM_KERNEL(NAME, T, U, BITS, EXP, WIDE, LO, HI, SMALL)              \
    CLONES Py_ssize_t NAME(const T *z, const int64_t *t, Py_ssize_t n,         \
                           Py_ssize_t k, Py_ssize_t cs, double *zt,            \
                           double *rest, double *odds, double *prior,          \
                           const double *w, T *buf, double *scale,             \
                           T *zmax, double *gap, uint8_t *top,                 \
                           Py_ssize_t *bad_at, double rest_min,                \
                           double rest_max, double zt_max)                     \
    {                                                                          \
        T lo = z[0], hi = z[0];                                                \
        Py_ssize_t shifted = 0;                                                \
        double *part = scale + 2 * CHUNK; /* the prior's sums, k of them */    \
        double *own = part + k;           /* its targets' terms, 4 x k */      \
        double *ones = own + 4 * k;       /* the weights where none are */     \
        T *most = (T *)(ones + CHUNK), *mine = most + CHUNK;                   \
        int32_t *first = (int32_t *)(mine + CHUNK), *tid = first + CHUNK;      \
        *bad_at = -1;                                                          \
        for (Py_ssize_t c = 0; c < 5 * k; c++)                                 \
            part[c] = 0.0;                                                     \
        for (Py_ssize_t i = 0; i < CHUNK; i++)                                 \
            ones[i] = 1.0;                                                     \
        for (Py_ssize_t i0 = 0; i0 < n; i0 += CHUNK) {                         \
            Py_ssize_t m = n - i0 < CHUNK ? n - i0 : CHUNK;                    \
            const double *wc = w != NULL ? w + i0 : ones;                      \
            U bad = 0;                                                         \
            for (Py_ssize_t i = 0; i < m; i++) {                               \
                int64_t at = t[i0 + i];                                        \
                tid[i] = at >= 0 && at < k ? (int32_t)at : -1;                 \
                most[i] = z[i0 + i];                                           \
                first[i] = 0;                                                  \
                mine[i] = 0;                                                   \
            }                                                                  \
            for (Py_ssize_t c = 0; c < k; c++) {                               \
                const T *col = z + c * cs + i0;                                \
                T *e = buf + c * CHUNK;                                        \
                /* the class's next chunk: k runs at once are more than the    \
                   hardware's prefetcher follows (a read here went at 3 GB/s) */\
                for (Py_ssize_t i = 0; i < m; i += 64 / sizeof(T))             \
                    __builtin_prefetch(col + CHUNK + i);                       \
                for (Py_ssize_t i = 0; i < m; i++) {                           \
                    T x = col[i];                                              \
                    U bits;                                                    \
                    memcpy(&bits, col + i, sizeof bits);                       \
                    bad |= (U)((bits & BITS) == BITS);                         \
                    int up = x > most[i];                                      \
                    first[i] = up ? (int32_t)c : first[i];                     \
                    most[i] = up ? x : most[i];                                \
                    int own = tid[i] == (int32_t)c;                            \
                    mine[i] = own ? x : mine[i];                               \
                    lo = x < lo ? x : lo;                                      \
                    hi = x > hi ? x : hi;                                      \
                    x = x > HI ? HI : x; /* garbage beyond: numpy's block */   \
                    T v = EXP(x < LO ? LO : x);                                \
                    e[i] = own ? (T)0 : v;                                     \
                }                                                              \
            }                                                                  \
            if (bad) { /* the first in row order: this chunk's first row */    \
                for (Py_ssize_t i = 0; i < m && *bad_at < 0; i++)              \
                    for (Py_ssize_t c = 0; c < k; c++) {                       \
                        U bits;                                                \
                        memcpy(&bits, z + c * cs + i0 + i, sizeof bits);       \
                        if ((bits & BITS) == BITS) {                           \
                            *bad_at = (i0 + i) * k + c;                        \
                            break;                                             \
                        }                                                      \
                    }                                                          \
                return -1;                                                     \
            }                                                                  \
            if (zmax != NULL)                                                  \
                for (Py_ssize_t i = 0; i < m; i++) {                           \
                    double g = (double)most[i] - (double)mine[i];              \
                    zmax[i0 + i] = most[i];                                    \
                    gap[i0 + i] = tid[i] >= 0 ? g : 0.0;                       \
                    top[i0 + i] = (uint8_t)(first[i] == tid[i]);               \
                }                                                              \
            double *r = rest + i0, *zc = zt + i0, *oc = odds + i0;             \
            for (Py_ssize_t i = 0; i < m; i++)                                 \
                r[i] = 0.0;                                                    \
            for (Py_ssize_t c = 0; c < k; c++) {                               \
                const T *e = buf + c * CHUNK;                                  \
                for (Py_ssize_t i = 0; i < m; i++)                             \
                    r[i] += (double)e[i];                                      \
            }                                                                  \
            /* selects, not branches, so that this runs as a vector loop */    \
            for (Py_ssize_t i = 0; i < m; i++) {                               \
                double ok = (double)tid[i], ri = r[i], zi = (double)mine[i];   \
                ri = ok >= 0.0 ? ri : 0.0;                                     \
                zi = ok >= 0.0 ? zi : 0.0;                                     \
                r[i] = ri;                                                     \
                zc[i] = zi;                                                    \
                /* |z_t| <= zt_max (340) in a direct row: in exp_f64's range */\
                double za = zi > zt_max ? zt_max : zi;                         \
                double o = ri * exp_f64(za < -zt_max ? zt_max : -za);          \
                o = ri >= rest_min ? o : -1.0;                                 \
                o = ri <= rest_max ? o : -1.0;                                 \
                o = zi <= zt_max ? o : -1.0;                                   \
                o = zi >= -zt_max ? o : -1.0;                                  \
                oc[i] = ok >= 0.0 ? o : -1.0;                                  \
            }                                                                  \
            for (Py_ssize_t i = 0; i < m; i++)                                 \
                shifted += oc[i] < 0.0;                                        \
            if (prior == NULL)                                                 \
                continue;                                                      \
            for (Py_ssize_t i = 0; i < m; i++) {                               \
                int direct = (oc[i] >= 0.0) & (wc[i] != 0.0);                  \
                double et = exp_f64(direct ? zc[i] : 0.0);                     \
                scale[i] = direct ? wc[i] / (et + r[i]) : 0.0;                 \
                scale[CHUNK + i] = et * scale[i]; /* the target's own p_t */   \
            }                                                                  \
            for (Py_ssize_t c = 0; c < k; c++) { /* e is 0 at the target */    \
                const T *e = buf + c * CHUNK;                                  \
                v8d a = {0}, b = {0};                                          \
                Py_ssize_t i = 0;                                              \
                for (; i + LANES <= m; i += LANES) {                           \
                    a += WIDE(e + i) * wide_f64(scale + i);                    \
                    b += WIDE(e + i + 8) * wide_f64(scale + i + 8);            \
                }                                                              \
                double sum = 0.0;                                              \
                for (; i < m; i++)                                             \
                    sum += (double)e[i] * scale[i];                            \
                part[c] += lanes_sum(sum, a, b);                               \
            }                                                                  \
            for (Py_ssize_t i = 0; i < m; i++) /* four sums: no one chain */   \
                if (tid[i] >= 0)                                               \
                    own[(i & 3) * k + tid[i]] += scale[CHUNK + i];             \
        }                                                                      \
        if (lo < LO || hi > HI)                                                \
            return -1;                                                         \
        if (prior != NULL)                                                     \
            for (Py_ssize_t c = 0; c < k; c++)                                 \
                prior[c] += part[c] + ((own[c] + own[k + c]) +                 \
                                       (own[2 * k + c] + own[3 * k + c]));     \
        return shifted;                                                        \
    }

SUM_CM_KERNEL(sum_cm_f32, float, uint32_t, 0x7f800000u, exp_f32, wide_f32, -87.0f, 88.0f,
              1e-22)
SUM_CM_KERNEL(sum_cm_f64, double, uint64_t, 0x7ff0000000000000ull, exp_f64, wide_f64,
              -708.0, 709.0,
              1e-280)

/* float32: terms below exp(-87) are flushed, so a row summing under 1e-22
 * with such a term goes to the exact path (a flushed term is then under
 * 1e-16 of the sum for any K up to 1e6) */
SUM_KERNEL(sum_f32, float, uint32_t, 0x7f800000u, exp_f32, wide_f32, -87.0f, 88.0f, 1e-22)
SUM_KERNEL(sum_f64, double, uint64_t, 0x7ff0000000000000ull, exp_f64, wide_f64, -708.0,
           709.0, 1e-280)
