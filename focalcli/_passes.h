/* The passes of _passes.c, for the glue in _kernels.c. */
#ifndef FOCAL_PASSES_H
#define FOCAL_PASSES_H
#include <Python.h>
#include <stdint.h>

/* a class-major block's sums are taken in chunks of this many positions */
#define CHUNK 256
/* rows of K scores of `size` bytes whose exponentials the prior takes
   together: eight while they fit in 64 kB, else one at a time */
#define ROW_GROUP(k, size) ((size_t)(k) * (size) * 8 <= (64u << 10) ? 8 : 1)

#define TOP_ARGS(T) const T *z, const int64_t *t, Py_ssize_t n, Py_ssize_t k, T *zmax, \
    double *gap, uint8_t *top
#define TOP_CM_ARGS(T) const T *z, const int64_t *t, Py_ssize_t n, Py_ssize_t k, \
    Py_ssize_t cs, T *zmax, double *gap, uint8_t *top, void *top_scratch
#define SUM_ARGS(T) const T *z, const int64_t *t, Py_ssize_t n, Py_ssize_t k, double *zt, \
    double *rest, double *odds, double *prior, const double *w, T *buf, T *zmax, \
    double *gap, uint8_t *top, Py_ssize_t *bad_at, double rest_min, double rest_max, \
    double zt_max
#define SUM_CM_ARGS(T) const T *z, const int64_t *t, Py_ssize_t n, Py_ssize_t k, \
    Py_ssize_t cs, double *zt, double *rest, double *odds, double *prior, const double *w, \
    T *buf, double *scale, T *zmax, double *gap, uint8_t *top, Py_ssize_t *bad_at, \
    double rest_min, double rest_max, double zt_max

Py_ssize_t top_f32(TOP_ARGS(float));
Py_ssize_t top_f64(TOP_ARGS(double));
Py_ssize_t top_cm_f32(TOP_CM_ARGS(float));
Py_ssize_t top_cm_f64(TOP_CM_ARGS(double));
Py_ssize_t sum_f32(SUM_ARGS(float));
Py_ssize_t sum_f64(SUM_ARGS(double));
Py_ssize_t sum_cm_f32(SUM_CM_ARGS(float));
Py_ssize_t sum_cm_f64(SUM_CM_ARGS(double));
#endif
