/* focalcli._kernels: the one pass over a block that numpy makes three of.
 *
 * top(z, targets, zmax, zt, top, ...) reads (n, k) float32 or float64 rows
 * once and writes each row's largest score (zmax), its target's score (zt)
 * and whether the target is the first maximum (top: 1 or 0, torch's argmax
 * rule), and returns the flat
 * index of the first NaN or infinite score, or -1. Nothing here rounds: a
 * maximum and a comparison are exact, so the result is the numpy path's
 * (focalcli/kernels.py) bit for bit, which the tests check on both.
 *
 * Built with -ffinite-math-only -fno-signed-zeros so that the compiler turns
 * the maximum into vector instructions: a row with a NaN or an infinity
 * gets garbage there, and is reported by its bits before anything reads it;
 * -0 and +0 compare equal, as they do in numpy. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLONES
#endif

#define TOP_KERNEL(NAME, T, U, EXP)                                            \
    CLONES static Py_ssize_t NAME(const T *z, const int64_t *t, Py_ssize_t n,  \
                                  Py_ssize_t k, T *zmax, T *zt, uint8_t *top)  \
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
            zt[i] = at >= 0 && at < k ? r[at] : m;                             \
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
 * z + c * n), class by class so that every loop runs along memory: the
 * maximum, then the target's equality with it less any earlier class's.
 * The first non-finite score is the first in row order, as above. */
#define TOP_CM_KERNEL(NAME, T, U, EXP)                                         \
    CLONES static Py_ssize_t NAME(const T *z, const int64_t *t, Py_ssize_t n,  \
                                  Py_ssize_t k, T *zmax, T *zt, uint8_t *top,  \
                                  void *top_scratch)                           \
    {                                                                          \
        U bad = 0;                                                             \
        for (Py_ssize_t i = 0; i < n; i++)                                     \
            zmax[i] = z[i];                                                    \
        for (Py_ssize_t c = 0; c < k; c++) {                                   \
            const T *col = z + c * n;                                          \
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
                    memcpy(&bits, z + c * n + i, sizeof bits);                 \
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
            const T *col = z + c * n;                                          \
            for (Py_ssize_t i = 0; i < n; i++)                                 \
                first[i] = col[i] == zmax[i] ? (int32_t)c : first[i];          \
        }                                                                      \
        for (Py_ssize_t i = 0; i < n; i++) {                                   \
            int64_t at = t[i];                                                 \
            zt[i] = at >= 0 && at < k ? z[at * n + i] : zmax[i];               \
            top[i] = (uint8_t)(first[i] == at);                                \
        }                                                                      \
        return -1;                                                             \
    }

TOP_CM_KERNEL(top_cm_f32, float, uint32_t, 0x7f800000u)
TOP_CM_KERNEL(top_cm_f64, double, uint64_t, 0x7ff0000000000000ull)

static PyObject *
top(PyObject *self, PyObject *args)
{
    Py_buffer z, t, zmax, ztv, flag;
    Py_ssize_t n, k;
    int wide, class_major;
    if (!PyArg_ParseTuple(args, "y*y*w*w*w*nnpp", &z, &t, &zmax, &ztv, &flag, &n, &k, &wide,
                          &class_major))
        return NULL;
    Py_ssize_t size = wide ? 8 : 4, bad = -1;
    void *scratch = class_major ? PyMem_RawMalloc((size_t)(n > 0 ? n : 1) * 4) : NULL;
    if (class_major && scratch == NULL) {
        PyErr_NoMemory();
    } else if (n < 0 || k < 1 || z.len < n * k * size || t.len < n * 8 ||
        zmax.len < n * size || ztv.len < n * size || flag.len < n) {
        PyErr_SetString(PyExc_ValueError, "buffers too small for the shape");
    } else {
        Py_BEGIN_ALLOW_THREADS
        if (class_major)
            bad = wide ? top_cm_f64(z.buf, t.buf, n, k, zmax.buf, ztv.buf, flag.buf, scratch)
                       : top_cm_f32(z.buf, t.buf, n, k, zmax.buf, ztv.buf, flag.buf, scratch);
        else
            bad = wide ? top_f64(z.buf, t.buf, n, k, zmax.buf, ztv.buf, flag.buf)
                       : top_f32(z.buf, t.buf, n, k, zmax.buf, ztv.buf, flag.buf);
        Py_END_ALLOW_THREADS
    }
    PyMem_RawFree(scratch);
    PyBuffer_Release(&z);
    PyBuffer_Release(&t);
    PyBuffer_Release(&zmax);
    PyBuffer_Release(&ztv);
    PyBuffer_Release(&flag);
    if (PyErr_Occurred())
        return NULL;
    return PyLong_FromSsize_t(bad);
}

static PyMethodDef methods[] = {
    {"top", top, METH_VARARGS,
     "top(z, targets, zmax, zt, top, n, k, wide, class_major) -> first non-finite row-order "
     "index or -1"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels", NULL, -1, methods};

PyMODINIT_FUNC
PyInit__kernels(void)
{
    return PyModule_Create(&module);
}
