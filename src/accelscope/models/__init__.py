"""Accelerator models: one package (or module) per accelerator behind one contract
(``models.contract``), declared in one registry (``models.registry``)."""
