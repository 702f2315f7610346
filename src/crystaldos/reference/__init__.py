"""Reference data from a real electronic-structure engine (GFN-xTB through ``tblite``).

Needs the optional extra: ``pip install 'crystaldos[reference]'``.
"""

from crystaldos.reference.xtb import (
    SCF_ATTEMPTS,
    ReferenceCalculationError,
    XtbResult,
    gaussian_dos,
    local_dos,
    robust_singlepoint,
    total_dos,
    xtb_singlepoint,
)

__all__ = ["SCF_ATTEMPTS", "ReferenceCalculationError", "XtbResult", "gaussian_dos", "local_dos",
           "robust_singlepoint", "total_dos", "xtb_singlepoint"]
