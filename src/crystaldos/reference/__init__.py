"""Reference data from a real electronic-structure engine (GFN-xTB through ``tblite``).

Needs the optional extra: ``pip install 'crystaldos[reference]'``.
"""

from crystaldos.reference.xtb import (
    ReferenceCalculationError,
    XtbResult,
    gaussian_dos,
    local_dos,
    total_dos,
    xtb_singlepoint,
)

__all__ = ["ReferenceCalculationError", "XtbResult", "gaussian_dos", "local_dos", "total_dos",
           "xtb_singlepoint"]
