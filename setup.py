"""The compiled parts, both optional: where no C compiler builds them the
install goes on and numpy's passes do the same work (focalcli/kernels.py).
focalcli/_passes.c is the block pass (finiteness, top label, exponentials),
_kernels.c its glue; focalcli/_sums.c a unit's accumulator sums."""
from setuptools import Extension, setup

setup(ext_modules=[
    # -ffinite-math-only and -fno-signed-zeros let the compiler vectorise the
    # row maximum, the C file says why that is safe there; -fno-trapping-math
    # lets it turn selects between float64s into vector loops (nothing here
    # reads the floating-point flags)
    Extension("focalcli._kernels", ["focalcli/_kernels.c", "focalcli/_passes.c"],
              depends=["focalcli/_passes.h"], optional=True,
              extra_compile_args=["-O3", "-ffinite-math-only", "-fno-signed-zeros",
                                  "-fno-trapping-math"]),
    # numpy's sums bit for bit: every product rounded on its own, no fast maths
    Extension("focalcli._sums", ["focalcli/_sums.c"], optional=True,
              extra_compile_args=["-O3", "-ffp-contract=off"]),
])
