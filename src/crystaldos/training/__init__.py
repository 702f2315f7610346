"""Training of spectral models with Lightning: data, losses, module and the train driver."""
