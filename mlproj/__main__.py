from mlproj.script import entry

entry()
