/* focalcli._kernels: one read of a block where numpy makes four to six.
 *
 * top(z, targets, zmax, gap, top, ...) reads (n, k) float32 or float64 rows
 * once and writes each row's largest score (zmax), its distance above the
 * target's score in float64 (gap, exact: a difference of two floats of the
 * input's precision) and whether the target is the first maximum (top: 1 or
 * 0, torch's argmax rule), and returns the flat index of the first NaN or
 * infinite score, or -1. Nothing there rounds, so the result is numpy's bit
 * for bit (the tests check). softmax_sums(...) is below.
 *
 * Built with -ffinite-math-only -fno-signed-zeros so that the compiler turns
 * the maximum into vector instructions: a row with a NaN or an infinity
 * gets garbage there, and is reported by its bits before anything reads it
 * (softmax_sums runs only on blocks found finite); -0 and +0 compare equal,
 * as they do in numpy. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#endif

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLONES
#endif

#define TOP_KERNEL(NAME, T, U, EXP)                                            \
    CLONES static Py_ssize_t NAME(const T *z, const int64_t *t, Py_ssize_t n,  \
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
    CLONES static Py_ssize_t NAME(const T *z, const int64_t *t, Py_ssize_t n,  \
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
 * path in Python, as they would there. */
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

#define LANES 16
#define SUM_KERNEL(NAME, T, EXP, LO, HI, SMALL)                                \
    CLONES static Py_ssize_t NAME(const T *z, const int64_t *t, Py_ssize_t n,  \
                                  Py_ssize_t k, double *zt, double *rest,      \
                                  double *odds, double *prior, const double *w,\
                                  T *buf, double rest_min, double rest_max,    \
                                  double zt_max)                               \
    {                                                                          \
        Py_ssize_t shifted = 0;                                                \
        for (Py_ssize_t i = 0; i < n; i++) {                                   \
            const T *r = z + i * k;                                            \
            Py_ssize_t at = (Py_ssize_t)t[i];                                  \
            if (at < 0 || at >= k) { /* not a class: nothing to read */        \
                zt[i] = 0.0;                                                   \
                rest[i] = 0.0;                                                 \
                odds[i] = -1.0;                                                \
                shifted++;                                                     \
                continue;                                                      \
            }                                                                  \
            int over = 0, under = 0;                                           \
            for (Py_ssize_t j = 0; j < k; j++) {                               \
                T x = r[j];                                                    \
                over |= x > HI;                                                \
                under |= x < LO;                                               \
                T c = x > HI ? HI : x;                                         \
                c = c < LO ? LO : c;                                           \
                T e = EXP(c);                                                  \
                buf[j] = x < LO ? (T)0 : e;                                    \
            }                                                                  \
            T target = r[at];                                                  \
            buf[at] = 0;                                                       \
            if (over && target > HI) { /* is the target the only one? */      \
                over = 0;                                                      \
                for (Py_ssize_t j = 0; j < k; j++)                             \
                    over |= (j != at) & (r[j] > HI);                           \
            }                                                                  \
            double lane[LANES] = {0};                                          \
            Py_ssize_t j = 0;                                                  \
            for (; j + LANES <= k; j += LANES)                                 \
                for (int u = 0; u < LANES; u++)                                \
                    lane[u] += (double)buf[j + u];                             \
            double sum = 0;                                                    \
            for (; j < k; j++)                                                 \
                sum += (double)buf[j];                                         \
            for (int u = 0; u < LANES; u++)                                    \
                sum += lane[u];                                                \
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
            for (Py_ssize_t c = 0; c < k; c++)                                 \
                prior[c] += (double)buf[c] * scale;                            \
            prior[at] += et * scale;                                           \
        }                                                                      \
        return shifted;                                                        \
    }

/* The same for a class-major block (a dense map's: class c's n scores at
 * z + c * cs), class by class so that every loop runs along memory, in
 * chunks of CHUNK positions whose exponentials stay in the core's first
 * cache while the sums and the prior read them back; each position's sum
 * is its own lane, summed in class order. A block with any score outside
 * the exponential's range is left to numpy (returns -1; the prior is only
 * added to at the end). */
#define CHUNK 256
#define SUM_CM_KERNEL(NAME, T, EXP, LO, HI, SMALL)                             \
    CLONES static Py_ssize_t NAME(const T *z, const int64_t *t, Py_ssize_t n,  \
                                  Py_ssize_t k, Py_ssize_t cs, double *zt,     \
                                  double *rest, double *odds, double *prior,   \
                                  const double *w, T *buf, double *scale,      \
                                  double rest_min, double rest_max,            \
                                  double zt_max)                               \
    {                                                                          \
        T lo = z[0], hi = z[0];                                                \
        Py_ssize_t shifted = 0;                                                \
        double *part = scale + 2 * CHUNK; /* the prior's sums, k of them */    \
        for (Py_ssize_t c = 0; c < k; c++)                                     \
            part[c] = 0.0;                                                     \
        for (Py_ssize_t i0 = 0; i0 < n; i0 += CHUNK) {                         \
            Py_ssize_t m = n - i0 < CHUNK ? n - i0 : CHUNK;                    \
            for (Py_ssize_t c = 0; c < k; c++) {                               \
                const T *col = z + c * cs + i0;                                \
                T *e = buf + c * CHUNK;                                        \
                for (Py_ssize_t i = 0; i < m; i++) {                           \
                    T x = col[i];                                              \
                    lo = x < lo ? x : lo;                                      \
                    hi = x > hi ? x : hi;                                      \
                    x = x > HI ? HI : x; /* garbage beyond: numpy's block */   \
                    e[i] = EXP(x < LO ? LO : x);                               \
                }                                                              \
            }                                                                  \
            double *r = rest + i0, *zc = zt + i0, *oc = odds + i0;             \
            const int64_t *tc = t + i0;                                        \
            for (Py_ssize_t i = 0; i < m; i++) {                               \
                int64_t at = tc[i];                                            \
                int ok = at >= 0 && at < k;                                    \
                zc[i] = ok ? (double)z[at * cs + i0 + i] : 0.0;                \
                if (ok)                                                        \
                    buf[at * CHUNK + i] = 0;                                   \
                r[i] = 0.0;                                                    \
            }                                                                  \
            for (Py_ssize_t c = 0; c < k; c++) {                               \
                const T *e = buf + c * CHUNK;                                  \
                for (Py_ssize_t i = 0; i < m; i++)                             \
                    r[i] += (double)e[i];                                      \
            }                                                                  \
            for (Py_ssize_t i = 0; i < m; i++) {                               \
                if (tc[i] < 0 || tc[i] >= k)                                   \
                    r[i] = 0.0;                                                \
                int direct = r[i] >= rest_min && r[i] <= rest_max &&           \
                             zc[i] <= zt_max && zc[i] >= -zt_max;              \
                shifted += !direct;                                            \
                /* |z_t| <= zt_max (340) in a direct row: in exp_f64's range */\
                double z_t = direct ? zc[i] : 0.0;                             \
                oc[i] = direct ? r[i] * exp_f64(-z_t) : -1.0;                  \
            }                                                                  \
            if (prior == NULL)                                                 \
                continue;                                                      \
            for (Py_ssize_t i = 0; i < m; i++) {                               \
                int direct = oc[i] >= 0.0 && (w == NULL || w[i0 + i] != 0.0);  \
                double et = exp_f64(direct ? zc[i] : 0.0);                     \
                scale[i] = direct ? (w != NULL ? w[i0 + i] : 1.0) / (et + r[i])\
                                  : 0.0;                                       \
                scale[CHUNK + i] = et * scale[i]; /* the target's own p_t */   \
            }                                                                  \
            for (Py_ssize_t c = 0; c < k; c++) {                               \
                const T *e = buf + c * CHUNK;                                  \
                double lane[LANES] = {0};                                      \
                Py_ssize_t i = 0;                                              \
                for (; i + LANES <= m; i += LANES)                             \
                    for (int u = 0; u < LANES; u++)                            \
                        lane[u] += (double)e[i + u] * scale[i + u];            \
                double sum = 0.0;                                              \
                for (; i < m; i++)                                             \
                    sum += (double)e[i] * scale[i];                            \
                for (int u = 0; u < LANES; u++)                                \
                    sum += lane[u];                                            \
                part[c] += sum;                                                \
            }                                                                  \
            for (Py_ssize_t i = 0; i < m; i++)                                 \
                if (scale[i] != 0.0)                                           \
                    part[tc[i]] += scale[CHUNK + i];                           \
        }                                                                      \
        if (lo < LO || hi > HI)                                                \
            return -1;                                                         \
        if (prior != NULL)                                                     \
            for (Py_ssize_t c = 0; c < k; c++)                                 \
                prior[c] += part[c];                                           \
        return shifted;                                                        \
    }

SUM_CM_KERNEL(sum_cm_f32, float, exp_f32, -87.0f, 88.0f, 1e-22)
SUM_CM_KERNEL(sum_cm_f64, double, exp_f64, -708.0, 709.0, 1e-280)

/* float32: terms below exp(-87) are flushed, so a row summing under 1e-22
 * with such a term goes to the exact path (a flushed term is then under
 * 1e-16 of the sum for any K up to 1e6) */
SUM_KERNEL(sum_f32, float, exp_f32, -87.0f, 88.0f, 1e-22)
SUM_KERNEL(sum_f64, double, exp_f64, -708.0, 709.0, 1e-280)

static PyObject *
softmax_sums(PyObject *self, PyObject *args)
{
    Py_buffer z, t, zt, rest, odds, prior, w;
    Py_ssize_t n, k, cs;
    int wide, with_prior, with_w, class_major;
    double rest_min, rest_max, zt_max;
    if (!PyArg_ParseTuple(args, "y*y*w*w*w*w*y*nnnppppddd", &z, &t, &zt, &rest, &odds, &prior,
                          &w, &n, &k, &cs, &wide, &with_prior, &with_w, &class_major,
                          &rest_min, &rest_max, &zt_max))
        return NULL;
    Py_ssize_t size = wide ? 8 : 4;
    /* a row's exponentials, or a chunk of a class-major block's, two scales per
       position of the chunk and the chunks' prior sums */
    size_t rows = class_major ? CHUNK : 1;
    size_t per = (size_t)(k > 0 ? k : 1) * (size_t)size;
    void *buf = PyMem_RawMalloc(rows * per + (class_major ? (2 * CHUNK + per) * 8 : 0));
    Py_ssize_t shifted = 0;
    if (buf == NULL) {
        PyErr_NoMemory();
    } else if (n < 0 || k < 1 || (class_major && cs < n) ||
               z.len < (class_major ? (k - 1) * cs + n : n * k) * size || t.len < n * 8 ||
               zt.len < n * 8 || rest.len < n * 8 || odds.len < n * 8 ||
               (with_prior && prior.len < k * 8) || (with_w && w.len < n * 8)) {
        PyErr_SetString(PyExc_ValueError, "buffers too small for the shape");
    } else {
        double *pp = with_prior ? prior.buf : NULL;
        const double *wp = with_w ? w.buf : NULL;
        double *scale = (double *)((char *)buf + rows * per);  /* class-major only */
        Py_BEGIN_ALLOW_THREADS
        if (class_major && wide)
            shifted = sum_cm_f64(z.buf, t.buf, n, k, cs, zt.buf, rest.buf, odds.buf, pp, wp,
                                 buf, scale, rest_min, rest_max, zt_max);
        else if (class_major)
            shifted = sum_cm_f32(z.buf, t.buf, n, k, cs, zt.buf, rest.buf, odds.buf, pp, wp,
                                 buf, scale, rest_min, rest_max, zt_max);
        else if (wide)
            shifted = sum_f64(z.buf, t.buf, n, k, zt.buf, rest.buf, odds.buf, pp, wp, buf,
                              rest_min, rest_max, zt_max);
        else
            shifted = sum_f32(z.buf, t.buf, n, k, zt.buf, rest.buf, odds.buf, pp, wp, buf,
                              rest_min, rest_max, zt_max);
        Py_END_ALLOW_THREADS
    }
    PyMem_RawFree(buf);
    Py_buffer *all[] = {&z, &t, &zt, &rest, &odds, &prior, &w};
    for (size_t b = 0; b < sizeof all / sizeof all[0]; b++)
        PyBuffer_Release(all[b]);
    if (PyErr_Occurred())
        return NULL;
    return PyLong_FromSsize_t(shifted);
}

static PyObject *
top(PyObject *self, PyObject *args)
{
    Py_buffer z, t, zmax, gapv, flag;
    Py_ssize_t n, k, cs;
    int wide, class_major;
    if (!PyArg_ParseTuple(args, "y*y*w*w*w*nnnpp", &z, &t, &zmax, &gapv, &flag, &n, &k, &cs,
                          &wide, &class_major))
        return NULL;
    Py_ssize_t size = wide ? 8 : 4, bad = -1;
    void *scratch = class_major ? PyMem_RawMalloc((size_t)(n > 0 ? n : 1) * 4) : NULL;
    if (class_major && scratch == NULL) {
        PyErr_NoMemory();
    } else if (n < 0 || k < 1 || (class_major && cs < n) ||
               z.len < (class_major ? (k - 1) * cs + n : n * k) * size || t.len < n * 8 ||
        zmax.len < n * size || gapv.len < n * 8 || flag.len < n) {
        PyErr_SetString(PyExc_ValueError, "buffers too small for the shape");
    } else {
        Py_BEGIN_ALLOW_THREADS
        if (class_major)
            bad = wide ? top_cm_f64(z.buf, t.buf, n, k, cs, zmax.buf, gapv.buf, flag.buf,
                                    scratch)
                       : top_cm_f32(z.buf, t.buf, n, k, cs, zmax.buf, gapv.buf, flag.buf,
                                    scratch);
        else
            bad = wide ? top_f64(z.buf, t.buf, n, k, zmax.buf, gapv.buf, flag.buf)
                       : top_f32(z.buf, t.buf, n, k, zmax.buf, gapv.buf, flag.buf);
        Py_END_ALLOW_THREADS
    }
    PyMem_RawFree(scratch);
    Py_buffer *all[] = {&z, &t, &zmax, &gapv, &flag};
    for (size_t b = 0; b < sizeof all / sizeof all[0]; b++)
        PyBuffer_Release(all[b]);
    if (PyErr_Occurred())
        return NULL;
    return PyLong_FromSsize_t(bad);
}

/* drop_pages(map, start, length): mmap's madvise(MADV_DONTNEED) for
 * readers.arrays.release_pages, with the GIL released: dropping a batch's
 * pages takes a millisecond or two, which the scoring threads waited out. */
static PyObject *
drop_pages(PyObject *self, PyObject *args)
{
    Py_buffer map;
    Py_ssize_t start, length;
    if (!PyArg_ParseTuple(args, "y*nn", &map, &start, &length))
        return NULL;
    int failed = 0;
#ifdef MADV_DONTNEED
    if (start < 0 || length < 0 || start > map.len - length) {
        PyErr_SetString(PyExc_ValueError, "pages outside the map");
    } else {
        Py_BEGIN_ALLOW_THREADS
        failed = madvise((char *)map.buf + start, (size_t)length, MADV_DONTNEED) != 0;
        Py_END_ALLOW_THREADS
        if (failed)
            PyErr_SetFromErrno(PyExc_OSError);
    }
#else
    PyErr_SetString(PyExc_NotImplementedError, "no madvise here");
#endif
    PyBuffer_Release(&map);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"drop_pages", drop_pages, METH_VARARGS, "drop_pages(map, start, length)"},
    {"top", top, METH_VARARGS,
     "top(z, targets, zmax, gap, top, n, k, cs, wide, class_major) -> first non-finite "
     "row-order "
     "index or -1"},
    {"softmax_sums", softmax_sums, METH_VARARGS,
     "softmax_sums(z, targets, zt, rest, odds, prior, w, n, k, cs, wide, with_prior, with_w, "
     "class_major, rest_min, rest_max, zt_max) -> rows to shift, or -1: numpy's block"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels", NULL, -1, methods};

PyMODINIT_FUNC
PyInit__kernels(void)
{
    return PyModule_Create(&module);
}
