"""Reference data from a real electronic-structure engine (GFN-xTB through ``tblite``).

Needs the optional extra: ``pip install 'crystaldos[reference]'``.
"""

from crystaldos.reference.edos import (
    EDOS_SCF_ATTEMPTS,
    ReferenceEDOS,
    supercell_repeats,
    xtb_edos,
)
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

__all__ = ["EDOS_SCF_ATTEMPTS", "SCF_ATTEMPTS", "ReferenceCalculationError", "ReferenceEDOS",
           "XtbResult", "gaussian_dos", "local_dos", "robust_singlepoint", "supercell_repeats",
           "total_dos", "xtb_edos", "xtb_singlepoint"]
