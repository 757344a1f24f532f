"""What the Python backends (numpy, numba) do to arrays besides checking them: native byte order
for the inputs, read-only views for the results that a cache keeps.

The compiled core does the same in its bindings (csrc/bindings): it accepts float arrays in
either byte order (converting the other one, as NumPy's casts do), and the h_seq a forward call
returns is a read-only view of the array its cache holds, so that editing a result in place
cannot change a later backward pass.
"""

from __future__ import annotations

import numpy as np


def native(a):
    """`a`, or for a float array in the other byte order (``>f4`` on a little-endian machine) a
    copy in native order: the same float32 / float64 values, which the checks then accept."""
    if isinstance(a, np.ndarray) and not a.dtype.isnative and a.dtype.kind == "f":
        return a.astype(a.dtype.newbyteorder("="))
    return a


def read_only(a):
    """A read-only view of `a` (a itself stays writeable: the backend's cache holds it)."""
    view = a.view()
    view.flags.writeable = False
    return view
