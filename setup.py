"""The one compiled part: focalcli/_kernels.c, the top-label pass. It is
optional: where no C compiler builds it, the install goes on and numpy's
passes do the same work (focalcli/kernels.py)."""
from setuptools import Extension, setup

# -ffinite-math-only and -fno-signed-zeros let the compiler vectorise the
# row maximum; the C file says why that is safe there
setup(ext_modules=[Extension("focalcli._kernels", ["focalcli/_kernels.c"], optional=True,
                             extra_compile_args=["-O3", "-ffinite-math-only",
                                                 "-fno-signed-zeros"])])
