/* focalcli._sums: a unit's accumulator sums in one pass over its rows,
 * where numpy makes a dozen (a bincount per sum, a product for each square
 * and each gamma's factor, the picks of the scored rows, the bucket and bin
 * indices).
 *
 * group_sums(...) is summary.Accumulator.partial's dense form and
 * calibration(...) is calibration.Calibration.part's: every sum adds the
 * same float64 terms, each the same product, in the same row order as
 * numpy's bincount, so the sums are numpy's bit for bit (the tests check).
 * That is why setup.py compiles this file with floating-point contraction
 * off and no fast-math flag: a fused multiply-add would round ce * ce + s
 * once where numpy rounds twice. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>

/* Returns -1, or the row whose cell falls outside the sums. */
static Py_ssize_t
group_sums_loop(const int64_t *group, const uint8_t *keep, const double *ce, const double *q,
                const double *pt, const double *w, const int32_t *whole, const uint8_t *half,
                Py_ssize_t gammas, const double *extra, Py_ssize_t extras, Py_ssize_t n,
                const double *edges, Py_ssize_t size, double *count, double *wsum,
                double *ce_sum, double *ce2, double *focal, double *focal2, double *extra_sum)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        if (keep != NULL && !keep[i])
            continue;
        double p = pt[i];
        int64_t cell = group[i] * 4 + (p >= edges[0]) + (p >= edges[1]) + (p >= edges[2]);
        if (cell < 0 || cell >= size)
            return i;
        count[cell] += 1.0;
        if (w != NULL)
            wsum[cell] += w[i];
        double e = ce[i], qi = q[i];
        ce_sum[cell] += e;
        ce2[cell] += e * e;
        for (Py_ssize_t g = 0; g < gammas; g++) {
            /* core.factors' chain: 1, q, q*q, (q*q)*q, ..., times sqrt(q) for a half */
            double factor = whole[g] == 0 ? 1.0 : qi;
            for (int32_t power = 2; power <= whole[g]; power++)
                factor = factor * qi;
            if (half[g])
                factor = factor * sqrt(qi);
            double f = factor * e;
            focal[g * size + cell] += f;
            focal2[g * size + cell] += f * f;
        }
        for (Py_ssize_t x = 0; x < extras; x++)
            extra_sum[x * size + cell] += extra[x * n + i];
    }
    return -1;
}

static PyObject *
group_sums(PyObject *self, PyObject *args)
{
    Py_buffer group, keep, ce, q, pt, w, whole, half, extra, edges;
    Py_buffer count, wsum, ce_sum, ce2, focal, focal2, extra_sum;
    Py_ssize_t n, size, gammas, extras;
    int with_keep, with_w;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*y*y*y*w*w*w*w*w*w*w*nnnnpp", &group, &keep, &ce,
                          &q, &pt, &w, &whole, &half, &extra, &edges, &count, &wsum, &ce_sum,
                          &ce2, &focal, &focal2, &extra_sum, &n, &size, &gammas, &extras,
                          &with_keep, &with_w))
        return NULL;
    Py_ssize_t bad = -1;
    Py_ssize_t cells = size * 8;
    if (n < 0 || size < 1 || gammas < 0 || extras < 0 || group.len < n * 8 ||
        (with_keep && keep.len < n) || ce.len < n * 8 || q.len < n * 8 || pt.len < n * 8 ||
        (with_w && (w.len < n * 8 || wsum.len < cells)) || whole.len < gammas * 4 ||
        half.len < gammas || extra.len < extras * n * 8 || edges.len < 3 * 8 ||
        count.len < cells || ce_sum.len < cells || ce2.len < cells ||
        focal.len < gammas * cells || focal2.len < gammas * cells ||
        extra_sum.len < extras * cells) {
        PyErr_SetString(PyExc_ValueError, "buffers too small for the shape");
    } else {
        Py_BEGIN_ALLOW_THREADS
        bad = group_sums_loop(group.buf, with_keep ? keep.buf : NULL, ce.buf, q.buf, pt.buf,
                              with_w ? w.buf : NULL, whole.buf, half.buf, gammas, extra.buf,
                              extras, n, edges.buf, size, count.buf, wsum.buf, ce_sum.buf,
                              ce2.buf, focal.buf, focal2.buf, extra_sum.buf);
        Py_END_ALLOW_THREADS
        if (bad >= 0)
            PyErr_Format(PyExc_ValueError, "row %zd's cell is outside the sums", bad);
    }
    Py_buffer *all[] = {&group, &keep, &ce, &q, &pt, &w, &whole, &half, &extra, &edges,
                        &count, &wsum, &ce_sum, &ce2, &focal, &focal2, &extra_sum};
    for (size_t b = 0; b < sizeof all / sizeof all[0]; b++)
        PyBuffer_Release(all[b]);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

/* calibration.Calibration.part over the scored rows: the bin of each
 * confidence taken in float32 (bin_of's rule: c * n in float32, then one
 * comparison with each neighbouring edge), its fine bin (c * 65536 in
 * float64, truncated), and per bin the count, the confidences' sum and the
 * correct count; the fine bins from lo on, width of them (fine_span's),
 * each bin's count, sum and correct count together ((width, 3)). */
static inline Py_ssize_t
fine_bin(double c, Py_ssize_t fine_bins)
{
    Py_ssize_t f = (Py_ssize_t)(c * (double)fine_bins);
    return f < fine_bins - 1 ? f : fine_bins - 1;
}

static void
calibration_loop(const double *conf, const uint8_t *correct, const uint8_t *keep, Py_ssize_t n,
                 const float *edges, const float *upper, Py_ssize_t bins, double *sums,
                 double *fine, Py_ssize_t fine_bins, Py_ssize_t lo, Py_ssize_t width)
{
    Py_ssize_t span = bins + 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (keep != NULL && !keep[i])
            continue;
        double c = conf[i];
        float c32 = (float)c;
        Py_ssize_t b = (Py_ssize_t)(c32 * (float)bins);
        b = b < bins ? b : bins;
        b -= c32 < edges[b];
        b += c32 >= upper[b];
        Py_ssize_t f = 3 * (fine_bin(c, fine_bins) - lo);
        double right = (double)correct[i]; /* 0 or 1: no branch to mispredict */
        sums[b] += 1.0;
        sums[span + b] += c;
        sums[2 * span + b] += right;
        fine[f] += 1.0; /* a bin's three sums side by side: one line of cache */
        fine[f + 1] += c;
        fine[f + 2] += right;
    }
}

/* The fine bins the scored rows fall in: [lo, hi), (0, 0) for none. A
 * unit's fine sums are kept over those alone: a confident model's few
 * thousand of the 65,536, so less to clear and to merge. */
static PyObject *
fine_span(PyObject *self, PyObject *args)
{
    Py_buffer conf, keep;
    Py_ssize_t n, fine_bins;
    if (!PyArg_ParseTuple(args, "y*y*nn", &conf, &keep, &n, &fine_bins))
        return NULL;
    Py_ssize_t lo = fine_bins, hi = -1;
    if (n < 0 || fine_bins < 1 || conf.len < n * 8 || keep.len < n) {
        PyErr_SetString(PyExc_ValueError, "buffers too small for the shape");
    } else {
        const double *c = conf.buf;
        const uint8_t *k = keep.buf;
        Py_BEGIN_ALLOW_THREADS
        double least = 2.0, most = -1.0;
        for (Py_ssize_t i = 0; i < n; i++) {
            least = k[i] && c[i] < least ? c[i] : least;
            most = k[i] && c[i] > most ? c[i] : most;
        }
        if (most >= least) { /* the bin is monotone in c */
            lo = fine_bin(least, fine_bins);
            hi = fine_bin(most, fine_bins);
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&conf);
    PyBuffer_Release(&keep);
    if (PyErr_Occurred())
        return NULL;
    return hi < 0 ? Py_BuildValue("nn", (Py_ssize_t)0, (Py_ssize_t)0)
                  : Py_BuildValue("nn", lo, hi + 1);
}

static PyObject *
calibration(PyObject *self, PyObject *args)
{
    Py_buffer conf, correct, keep, edges, upper, sums, fine;
    Py_ssize_t n, bins, fine_bins, lo, width;
    int with_keep;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*w*w*nnnnnp", &conf, &correct, &keep, &edges, &upper,
                          &sums, &fine, &n, &bins, &fine_bins, &lo, &width, &with_keep))
        return NULL;
    /* every scored row's fine bin must lie in [lo, lo + width): fine_span's */
    if (n < 0 || bins < 1 || fine_bins < 1 || lo < 0 || width < 0 || lo + width > fine_bins ||
        conf.len < n * 8 || correct.len < n || (with_keep && keep.len < n) ||
        edges.len < (bins + 1) * 4 || upper.len < (bins + 1) * 4 ||
        sums.len < 3 * (bins + 1) * 8 || fine.len < 3 * width * 8) {
        PyErr_SetString(PyExc_ValueError, "buffers too small for the shape");
    } else {
        Py_BEGIN_ALLOW_THREADS
        calibration_loop(conf.buf, correct.buf, with_keep ? keep.buf : NULL, n, edges.buf,
                         upper.buf, bins, sums.buf, fine.buf, fine_bins, lo, width);
        Py_END_ALLOW_THREADS
    }
    Py_buffer *all[] = {&conf, &correct, &keep, &edges, &upper, &sums, &fine};
    for (size_t b = 0; b < sizeof all / sizeof all[0]; b++)
        PyBuffer_Release(all[b]);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"group_sums", group_sums, METH_VARARGS,
     "group_sums(group, keep, ce, q, pt, w, whole, half, extra, edges, count, wsum, ce, ce2, "
     "focal, focal2, extra_sums, n, size, gammas, extras, with_keep, with_w)"},
    {"calibration", calibration, METH_VARARGS,
     "calibration(confidence, correct, keep, edges, upper, sums, fine, n, bins, fine_bins, "
     "lo, width, with_keep)"},
    {"fine_span", fine_span, METH_VARARGS,
     "fine_span(confidence, keep, n, fine_bins) -> (lo, hi): the fine bins the kept rows use"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_sums", NULL, -1, methods};

PyMODINIT_FUNC
PyInit__sums(void)
{
    return PyModule_Create(&module);
}
