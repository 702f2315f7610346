"""Fit the spectrum autoencoder of AE-ALIGNN on training spectra (plain PyTorch, it is small)."""

from __future__ import annotations

import numpy as np
import torch

from crystaldos.models.autoencoder import SpectrumAutoencoder
from crystaldos.training.config import AutoencoderConfig


def fit_autoencoder(train: np.ndarray, val: np.ndarray, config: AutoencoderConfig, *,
                    seed: int = 0) -> tuple[SpectrumAutoencoder, dict[str, float]]:
    """Train on ``train`` (n, count) spectra with MSE, keep the epoch with the lowest validation
    reconstruction MAE, and return the model with ``{"recon_mae_train", "recon_mae_val"}``."""
    torch.manual_seed(seed)
    x_train = torch.as_tensor(np.asarray(train, dtype=np.float32))
    x_val = torch.as_tensor(np.asarray(val, dtype=np.float32))
    # max-normalized spectra keep scale 1; others get 10 % headroom over the training maximum
    peak = float(x_train.max())
    scale = 1.0 if peak <= 1.0 else 1.1 * peak
    ae = SpectrumAutoencoder(x_train.shape[1], config.latent, tuple(config.hidden), scale=scale,
                             standardize=True)
    ae.set_statistics(x_train)
    opt = torch.optim.AdamW(ae.parameters(), lr=config.lr, weight_decay=1e-5)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs)
    gen = torch.Generator().manual_seed(seed)
    best, best_state = float("inf"), None
    for _ in range(config.epochs):
        ae.train()
        for idx in torch.randperm(len(x_train), generator=gen).split(config.batch_size):
            loss = torch.mean((ae(x_train[idx]) - x_train[idx]) ** 2)
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        ae.eval()
        with torch.no_grad():
            score = float(torch.mean(torch.abs(ae(x_val) - x_val)))
        if score < best:
            best = score
            best_state = {k: v.clone() for k, v in ae.state_dict().items()}
    assert best_state is not None
    ae.load_state_dict(best_state)
    ae.eval()
    with torch.no_grad():
        train_mae = float(torch.mean(torch.abs(ae(x_train) - x_train)))
    return ae, {"recon_mae_train": train_mae, "recon_mae_val": best}
