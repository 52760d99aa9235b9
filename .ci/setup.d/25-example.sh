# The example project's own tests (tests/examples) run its training code with plain python.
# torch is pinned to the version in examples/cnn_project/conda.yml.
python -m pip install -q torch==2.13.0 scikit-learn
