"""``crystaldos serve``: a local web page on the package's own pipeline.

One structure (upload, paste or pick an example) gives the phonon and electronic DOS of every
applicable model with the properties that follow from them; many structures (a zip or a
multi-frame file) run as a background screening job whose results persist in a run directory.
Modules: :mod:`~crystaldos.web.uploads` (safe uploads), :mod:`~crystaldos.web.analysis` (one
structure), :mod:`~crystaldos.web.jobs` (batch jobs), :mod:`~crystaldos.web.app` (the routes).
Needs ``pip install 'crystaldos[web]'``.
"""
