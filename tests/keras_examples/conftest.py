"""The example texts are programs, not test modules: pytest (and its doctest collection) must not
import them; they run only through runner.py in a subprocess."""

collect_ignore = ["examples", "runner.py", "_offline.py", "make_keras_counts.py"]
