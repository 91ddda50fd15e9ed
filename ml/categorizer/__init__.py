"""The line-item categorizer: PyTorch model, scikit-learn baseline, evaluation, export."""
