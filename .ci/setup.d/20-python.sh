# mlproj itself, with the test extras (the real mlflow package among them).
python -m pip install -q -e ".[test]"
