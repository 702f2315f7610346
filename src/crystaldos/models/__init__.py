"""Spectral models: ALIGNN-DOS, the spectrum autoencoder and AE-ALIGNN, with saving/loading."""

from crystaldos.models.alignn import ALIGNNDOS
from crystaldos.models.autoencoder import AELatentALIGNN, SpectrumAutoencoder
from crystaldos.models.saving import ModelBundle, load_model, save_model

__all__ = ["ALIGNNDOS", "AELatentALIGNN", "ModelBundle", "SpectrumAutoencoder", "load_model",
           "save_model"]
