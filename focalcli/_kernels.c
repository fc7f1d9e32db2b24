/* focalcli._kernels: one read of a block where numpy makes four to six;
 * this is the Python glue, the passes are in _passes.c.
 *
 * top(z, targets, zmax, gap, top, ...) reads (n, k) float32 or float64 rows
 * once and writes each row's largest score (zmax), its distance above the
 * target's score in float64 (gap, exact: a difference of two floats of the
 * input's precision) and whether the target is the first maximum (top: 1 or
 * 0, torch's argmax rule), and returns the flat index of the first NaN or
 * infinite score, or -1. Nothing there rounds, so the result is numpy's bit
 * for bit (the tests check). softmax_sums(...) finds the same in the read
 * that sums the exponentials; what it sums is garbage in a block with a
 * non-finite score, which the caller then refuses. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#endif

#include "_passes.h"

static PyObject *
softmax_sums(PyObject *self, PyObject *args)
{
    Py_buffer z, t, zt, rest, odds, prior, w, zmax, gapv, flag;
    Py_ssize_t n, k, cs;
    int wide, with_prior, with_w, with_top, class_major;
    double rest_min, rest_max, zt_max;
    if (!PyArg_ParseTuple(args, "y*y*w*w*w*w*y*w*w*w*nnnpppppddd", &z, &t, &zt, &rest, &odds,
                          &prior, &w, &zmax, &gapv, &flag, &n, &k, &cs, &wide, &with_prior,
                          &with_w, &with_top, &class_major, &rest_min, &rest_max, &zt_max))
        return NULL;
    Py_ssize_t size = wide ? 8 : 4;
    /* a row's exponentials, or a chunk of a class-major block's with what
       sum_cm_* keeps beside them (see _passes.c) */
    size_t rows = class_major ? CHUNK : ROW_GROUP(k > 0 ? k : 1, size);
    size_t per = (size_t)(k > 0 ? k : 1) * (size_t)size;
    size_t extra = class_major ? (3 * CHUNK + 5 * (size_t)(k > 0 ? k : 1)) * 8 +
                                     CHUNK * (2 * size + 8)
                               : 0;
    void *buf = PyMem_RawMalloc(rows * per + extra);
    Py_ssize_t shifted = 0, bad = -1;
    if (buf == NULL) {
        PyErr_NoMemory();
    } else if (n < 0 || k < 1 || (class_major && cs < n) ||
               z.len < (class_major ? (k - 1) * cs + n : n * k) * size || t.len < n * 8 ||
               zt.len < n * 8 || rest.len < n * 8 || odds.len < n * 8 ||
               (with_prior && prior.len < k * 8) || (with_w && w.len < n * 8) ||
               (with_top && (zmax.len < n * size || gapv.len < n * 8 || flag.len < n))) {
        PyErr_SetString(PyExc_ValueError, "buffers too small for the shape");
    } else {
        double *pp = with_prior ? prior.buf : NULL;
        const double *wp = with_w ? w.buf : NULL;
        void *zm = with_top ? zmax.buf : NULL;
        double *gp = with_top ? gapv.buf : NULL;
        uint8_t *tp = with_top ? flag.buf : NULL;
        double *scale = (double *)((char *)buf + rows * per);  /* class-major only */
        Py_BEGIN_ALLOW_THREADS
        if (class_major && wide)
            shifted = sum_cm_f64(z.buf, t.buf, n, k, cs, zt.buf, rest.buf, odds.buf, pp, wp,
                                 buf, scale, zm, gp, tp, &bad, rest_min, rest_max, zt_max);
        else if (class_major)
            shifted = sum_cm_f32(z.buf, t.buf, n, k, cs, zt.buf, rest.buf, odds.buf, pp, wp,
                                 buf, scale, zm, gp, tp, &bad, rest_min, rest_max, zt_max);
        else if (wide)
            shifted = sum_f64(z.buf, t.buf, n, k, zt.buf, rest.buf, odds.buf, pp, wp, buf, zm,
                              gp, tp, &bad, rest_min, rest_max, zt_max);
        else
            shifted = sum_f32(z.buf, t.buf, n, k, zt.buf, rest.buf, odds.buf, pp, wp, buf, zm,
                              gp, tp, &bad, rest_min, rest_max, zt_max);
        Py_END_ALLOW_THREADS
    }
    PyMem_RawFree(buf);
    Py_buffer *all[] = {&z, &t, &zt, &rest, &odds, &prior, &w, &zmax, &gapv, &flag};
    for (size_t b = 0; b < sizeof all / sizeof all[0]; b++)
        PyBuffer_Release(all[b]);
    if (PyErr_Occurred())
        return NULL;
    return Py_BuildValue("nn", shifted, bad);
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
     "softmax_sums(z, targets, zt, rest, odds, prior, w, zmax, gap, top, n, k, cs, wide, "
     "with_prior, with_w, with_top, class_major, rest_min, rest_max, zt_max) -> (rows to "
     "shift, or -1: numpy's block; the first non-finite row-order index, or -1)"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels", NULL, -1, methods};

PyMODINIT_FUNC
PyInit__kernels(void)
{
    return PyModule_Create(&module);
}
