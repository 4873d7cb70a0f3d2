"""The conversation flows, one module per feature; each keeps its own texts."""
